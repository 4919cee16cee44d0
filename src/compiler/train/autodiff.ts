// Autodiff on the graph IR, at compile time, with the backward graph pruned: from the loss
// back, only what the gradients of trainable tensors need is scheduled and stored.
//
// A node "reaches" a trainable tensor when it trains itself or one of its inputs reaches one.
// - A node that reaches nothing gets no backward op and saves nothing (frozen layers below
//   every trainable one).
// - A node that reaches something propagates dL/dinput only to inputs that reach something;
//   a frozen layer between trainable ones therefore runs input_grad and no update.
// - What the forward pass saves for the backward: a 1-bit mask per output element of every
//   clamp (fused or standalone ReLU/ReLU6) whose backward runs; for each weight update the
//   layer's whole int8 input (updates select OUTPUT channels, whose gradient reads every input
//   channel: the activation is kept alive, no copy); max-pool inputs. Nothing else.
// - A layer whose weights train keeps in SRAM (TRAINABLE, initialised from flash at load) only
//   what it trains: a conv2d or fully connected layer trained at ratio < 1 its selected output
//   channels' rows ("compact rows"), and its forward and input_grad ops each get the whole
//   filter in a buffer of their own, live for that op only (flash filter + rows, MERGE_ROWS);
//   any other layer (ratio 1, depthwise: channels on the last axis) its whole filter, read there.
//
// Schedule (operator reordering): forward ops in node order, the loss, then for each node from
// the output down: activation_grad (dy *= mask, in place), input_grad (dx with the weights as
// they were in the forward pass), update (weight gradient of the selected channels + bias
// gradient, QAS and the SGD step fused, written straight into the trainable slices). There is
// no weight-gradient buffer and no optimizer step at the end: each update happens as soon as
// its layer's gradient exists, and each dL/dy dies right after its node's backward.

import { ShapeError } from '../../formats/errors.js';
import { Category } from '../../formats/schema.js';
import { hasParams, indexNodes, size, type Graph, type Node, type ParamNode } from '../graph.js';
import { isTrained, type LayerTraining, type ResolvedRecipe } from './recipe.js';
import { StepBuilder, type GradWrite, type TrainOpKind, type TrainStepPlan } from './train_plan.js';

/** Per graph node: what the pruned step runs and keeps for it. */
export interface NodeWork {
  node: string;
  kind: Node['kind'];
  /** Backward ops of the node by kind (0 or 1 each). */
  activationGrad: number;
  inputGrad: number;
  update: number;
  /** MACs of the node's backward ops (input_grad + weight gradient of selected channels). */
  backwardMacs: number;
  /** MACs an unpruned backward would spend on the node (dx and the full weight gradient). */
  fullBackwardMacs: number;
  /** Bytes the forward pass saves for the node's backward: its output mask, its saved input (an alias counts its full size). */
  maskBytes: number;
  savedBytes: number;
}

export interface TrainStepOptions {
  /**
   * The step takes the sample as float32 (buffer 'sample') and quantizes it in op 0, the
   * forward op of the input node, as the device container does. Default: the int8 input is
   * the step input.
   */
  floatSample?: boolean;
  /**
   * Internal: layers trained at ratio < 1 keep their whole filter in SRAM as before compact rows
   * (the equivalence tests compare both forms). Default false.
   */
  wholeFilters?: boolean;
}

/** Builds the pruned train step of `graph` for a recipe resolved against it. */
export function buildTrainStep(graph: Graph, recipe: ResolvedRecipe, options: TrainStepOptions = {}): TrainStepPlan {
  const index = indexNodes(graph);
  if (recipe.graph !== graph.name) throw new ShapeError(`recipe was resolved for '${recipe.graph}', not for graph '${graph.name}'`);
  for (const n of graph.nodes) {
    if (n.kind === 'softmax') throw new ShapeError(`node '${n.name}': a train step runs on logits; remove the softmax (the loss applies it)`);
  }
  const training = new Map(recipe.layers.map((l) => [l.layer, l]));
  const reaches = reachesTrainable(graph, index, training);
  const live = ancestorsOfOutput(graph, index);
  const runsBackward = (i: number) => reaches[i] && live[i];
  const s = new StepBuilder();

  // Step inputs and persistent state.
  const act: number[] = [];
  const sample = options.floatSample
    ? s.buffer({ name: 'sample', dtype: 'float32', elements: size(graph.nodes[0].shape), category: Category.ACTIVATION, node: graph.nodes[0].name })
    : undefined;
  act[0] = s.buffer({ name: 'input', dtype: 'int8', elements: size(graph.nodes[0].shape), category: Category.ACTIVATION, node: 'input' });
  const outShape = graph.nodes[index.get(graph.output)!].shape;
  const target = recipe.loss === 'mse'
    ? s.buffer({ name: 'target', dtype: 'float32', elements: size(outShape), category: Category.ACTIVATION, node: graph.output })
    : s.buffer({ name: 'label', dtype: 'int32', elements: 1, category: Category.ACTIVATION, node: graph.output });
  const slices = new Map<string, { weight?: number; bias?: number; momentum?: number; compact: boolean }>();
  for (const l of recipe.layers) {
    if (isTrained(l)) slices.set(l.layer, trainableSlices(s, graph.nodes[index.get(l.layer)!] as ParamNode, l, recipe.momentum > 0, recipe.rounding === 'carry', !options.wholeFilters));
  }
  /** The whole filter of a compact-rows layer, for one forward or input_grad op. */
  const merged = (node: Node): number | undefined => (slices.get(node.name)?.compact ? mergedFilter(s, node as ParamNode) : undefined);

  // Forward.
  if (sample !== undefined) s.op({ kind: 'forward', node: graph.nodes[0].name, inputs: [sample], output: act[0], macs: 0 });
  const mask: number[] = [];
  const saved: number[] = [];
  for (let i = 1; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    const inputs = node.inputs.map((n) => index.get(n)!);
    act[i] = s.buffer({ name: node.name, dtype: 'int8', elements: size(node.shape), category: Category.ACTIVATION, node: node.name });
    if (runsBackward(i) && clampOf(node) !== 'none') {
      mask[i] = s.buffer({ name: `${node.name}/mask`, dtype: 'bit', elements: size(node.shape), category: Category.MASK, node: node.name });
    }
    const l = training.get(node.name);
    const x = graph.nodes[inputs[0]];
    if (l && l.weightRatio > 0) saved[i] = savedInput(s, node, x, act[inputs[0]], l);
    if (node.kind === 'max_pool' && runsBackward(i)) saved[i] = savedInput(s, node, x, act[inputs[0]]);
    s.op({
      kind: 'forward', node: node.name, inputs: inputs.map((j) => act[j]), output: act[i], mask: mask[i], saved: saved[i],
      weight: slices.get(node.name)?.weight, merged: merged(node), bias: slices.get(node.name)?.bias, macs: forwardMacs(node, graph.nodes[inputs[0]].shape),
    });
  }

  // Loss.
  const out = index.get(graph.output)!;
  const grad: number[] = [];
  grad[out] = gradientBuffer(s, graph.nodes[out]);
  const lossValue = s.buffer({ name: 'loss', dtype: 'float32', elements: 1, category: Category.ACTIVATION, node: graph.output, persistent: true });
  s.op({ kind: 'loss', node: graph.output, inputs: [act[out]], target, output: grad[out], lossValue, macs: 0 });

  // Backward, pruned.
  for (let i = out; i >= 1; i--) {
    if (!runsBackward(i) || grad[i] === undefined) continue;
    const node = graph.nodes[i];
    const inputs = node.inputs.map((n) => index.get(n)!);
    const dy = grad[i];
    const writeGrad = (operand: number, inPlace: boolean): GradWrite => {
      const j = inputs[operand];
      if (grad[j] !== undefined) return { operand, buffer: grad[j], accumulate: true };
      grad[j] = gradientBuffer(s, graph.nodes[j], inPlace ? dy : undefined);
      return { operand, buffer: grad[j], accumulate: false };
    };
    const needs = inputs.map((j) => reaches[j]);
    const slice = slices.get(node.name);
    const inShape = graph.nodes[inputs[0]].shape;

    if (node.kind === 'relu' || node.kind === 'relu6') {
      s.op({ kind: 'activation_grad', node: node.name, dy, mask: mask[i], dx: [writeGrad(0, true)], macs: 0 });
      continue;
    }
    if (mask[i] !== undefined) s.op({ kind: 'activation_grad', node: node.name, dy, mask: mask[i], macs: 0 });
    if (node.kind === 'add') {
      const dx = needs.flatMap((need, k) => (need ? [writeGrad(k, k === needs.indexOf(true))] : []));
      s.op({ kind: 'input_grad', node: node.name, dy, dx, macs: 0 });
      continue;
    }
    if (needs[0]) {
      const inPlace = node.kind === 'reshape';
      s.op({
        kind: 'input_grad', node: node.name, dy, saved: node.kind === 'max_pool' ? saved[i] : undefined, weight: slice?.weight, merged: merged(node),
        dx: [writeGrad(0, inPlace)], macs: hasParams(node) ? forwardMacs(node, inShape) : 0,
      });
    }
    const l = training.get(node.name);
    if (l && isTrained(l)) {
      s.op({ kind: 'update', node: node.name, dy, saved: saved[i], weight: slice?.weight, bias: slice?.bias, momentum: slice?.momentum, macs: hasParams(node) ? weightGradMacs(node, inShape, l) : 0 });
    }
  }
  return s.finish(graph.name, [sample ?? act[0], target]);
}

/** What the pruned step runs for every node, with the MACs an unpruned backward would spend. */
export function countPrunedWork(graph: Graph, plan: TrainStepPlan): NodeWork[] {
  const index = indexNodes(graph);
  const work = new Map<string, NodeWork>();
  for (const n of graph.nodes.slice(1)) {
    const inShape = graph.nodes[index.get(n.inputs[0])!].shape;
    const full = hasParams(n) ? 2 * forwardMacs(n, inShape) : 0;
    work.set(n.name, { node: n.name, kind: n.kind, activationGrad: 0, inputGrad: 0, update: 0, backwardMacs: 0, fullBackwardMacs: full, maskBytes: 0, savedBytes: 0 });
  }
  const field: Partial<Record<TrainOpKind, 'activationGrad' | 'inputGrad' | 'update'>> = { activation_grad: 'activationGrad', input_grad: 'inputGrad', update: 'update' };
  for (const op of plan.ops) {
    const w = work.get(op.node);
    const f = field[op.kind];
    if (!w || !f) continue;
    w[f]++;
    w.backwardMacs += op.macs;
  }
  for (const b of plan.buffers) {
    const w = work.get(b.node);
    if (!w) continue;
    if (b.category === Category.MASK) w.maskBytes += b.bytes;
    if (b.category === Category.SAVED_ACTIVATION) w.savedBytes += b.bytes;
  }
  return [...work.values()];
}

/** reaches[i]: node i trains, or an input of it reaches a trainable tensor. */
function reachesTrainable(graph: Graph, index: Map<string, number>, training: Map<string, LayerTraining>): boolean[] {
  const reaches = graph.nodes.map(() => false);
  graph.nodes.forEach((node, i) => {
    const l = training.get(node.name);
    reaches[i] = (l !== undefined && isTrained(l)) || node.inputs.some((n) => reaches[index.get(n)!]);
  });
  return reaches;
}

/** live[i]: the graph output depends on node i. */
function ancestorsOfOutput(graph: Graph, index: Map<string, number>): boolean[] {
  const live = graph.nodes.map(() => false);
  live[index.get(graph.output)!] = true;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i]) for (const n of graph.nodes[i].inputs) live[index.get(n)!] = true;
  }
  return live;
}

function clampOf(node: Node): 'none' | 'relu' | 'relu6' {
  if (node.kind === 'relu' || node.kind === 'relu6') return node.kind;
  return 'activation' in node ? node.activation : 'none';
}

function gradientBuffer(s: StepBuilder, node: Node, inPlaceOf?: number): number {
  return s.buffer({ name: `${node.name}/grad`, dtype: 'float32', elements: size(node.shape), category: Category.GRADIENT, node: node.name, inPlaceOf });
}

/**
 * The input a node's backward needs: the whole activation kept alive (an alias, no copy). A
 * weight update of any ratio reads every input channel (it selects output channels).
 */
function savedInput(s: StepBuilder, node: Node, x: Node, xBuffer: number, _l?: LayerTraining): number {
  return s.buffer({ name: `${x.name}/saved`, dtype: 'int8', elements: size(x.shape), category: Category.SAVED_ACTIVATION, node: node.name, aliasOf: xBuffer });
}

/**
 * SRAM copies of a layer's trained parameters: the int8 filter (with `compactRows`, a conv2d or
 * fully connected layer trained at ratio < 1 keeps only its selected rows, in channel-list order;
 * otherwise the whole filter, which the forward op reads in SRAM), the int32 biases, and the
 * optimizer state: fp32 momentum for the updated weights and biases, or int8 carry fractions for
 * the updated weights (carry rounding).
 */
function trainableSlices(s: StepBuilder, node: ParamNode, l: LayerTraining, momentum: boolean, carry: boolean, compactRows: boolean) {
  const biasCount = node.bias.data.length;
  const perChannel = node.weight.data.length / biasCount;
  const compact = compactRows && l.weightRatio > 0 && l.channels.length < biasCount && node.kind !== 'depthwise_conv2d';
  const filterCount = l.weightRatio === 0 ? 0 : compact ? perChannel * l.channels.length : node.weight.data.length;
  const name = node.name;
  const weight = filterCount > 0 ? s.buffer({ name: `${name}/weight`, dtype: 'int8', elements: filterCount, category: Category.TRAINABLE, node: name, persistent: true, channels: l.channels }) : undefined;
  const bias = l.trainBias ? s.buffer({ name: `${name}/bias`, dtype: 'int32', elements: biasCount, category: Category.TRAINABLE, node: name, persistent: true }) : undefined;
  const updatedWeights = perChannel * l.channels.length;
  const updated = updatedWeights + (l.trainBias ? biasCount : 0);
  const m = momentum ? s.buffer({ name: `${name}/momentum`, dtype: 'float32', elements: updated, category: Category.OPTIMIZER, node: name, persistent: true })
    : carry && updatedWeights > 0 ? s.buffer({ name: `${name}/carry`, dtype: 'int8', elements: updatedWeights, category: Category.OPTIMIZER, node: name, persistent: true }) : undefined;
  return { weight, bias, momentum: m, compact };
}

/** The whole filter MERGE_ROWS builds for one op of a compact-rows layer: int8, live for that op only. */
function mergedFilter(s: StepBuilder, node: ParamNode): number {
  return s.buffer({ name: `${node.name}/filter`, dtype: 'int8', elements: node.weight.data.length, category: Category.ACTIVATION, node: node.name });
}

/** MACs of a conv/depthwise/fc forward pass (= its dx pass); 0 for other nodes. */
export function forwardMacs(node: Node, inShape: readonly number[]): number {
  if (node.kind === 'conv2d') {
    const [, kH, kW, inC] = node.weight.shape;
    return size(node.shape) * kH * kW * inC;
  }
  if (node.kind === 'depthwise_conv2d') return size(node.shape) * node.weight.shape[1] * node.weight.shape[2];
  if (node.kind === 'fully_connected') return size(node.shape) * size(inShape);
  return 0;
}

/** MACs of the weight gradient restricted to the selected channels. */
function weightGradMacs(node: ParamNode, inShape: readonly number[], l: LayerTraining): number {
  if (l.weightRatio === 0) return 0;
  return Math.round((forwardMacs(node, inShape) * l.channels.length) / node.bias.data.length);
}
