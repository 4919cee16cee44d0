// The fp32 reference execution of a train-step plan: runs the plan's ops in order with the
// fp32 engine's kernels (src/compiler/fp32), touching only the buffers each op declares, and
// dropping every buffer after its last reader. It checks the plan (a buffer read outside its
// lifetime throws) and gives the oracle the device's train step is compared with.
//
// Differences from the device, on purpose: values are fp32 everywhere (the device keeps
// activations int8), weights are read from the graph, and `update` ops apply no step: they
// return the gradient they would apply (before QAS scaling), keyed by parameter name. The
// weight gradient of a partial update is computed from the saved channels alone (the other
// channels read as zero), so it is exact on the selected channels and 0 elsewhere.
//
// `options.forward` replaces the fp32 forward of the nodes it names by given values and masks:
// with the device's own int8 activations (dequantized) and the masks those imply, the backward
// here differs from the device's only by fp32 summation order (test/train/trainer.test.ts).

import { ShapeError } from '../../formats/errors.js';
import { Category } from '../../formats/schema.js';
import { fp32Ops, meanSquaredError, softmaxCrossEntropy } from '../fp32/index.js';
import { conv2dBackward } from '../fp32/conv2d.js';
import { depthwiseBackward } from '../fp32/depthwise_conv2d.js';
import { fullyConnectedBackward } from '../fp32/fully_connected.js';
import type { Fp32Op } from '../fp32/op.js';
import { windowGeometry } from '../fp32/window.js';
import { indexNodes, size, type Graph, type Node, type ParamNode } from '../graph.js';
import type { ResolvedRecipe } from './recipe.js';
import { readsOf, type TrainOp, type TrainOpKind, type TrainStepPlan } from './train_plan.js';

export interface ReferenceStepResult {
  loss: number;
  /** Gradient each update op would apply, by parameter name ("pw2/weight"), parameter layout. */
  grads: Map<string, Float32Array>;
  /** Ops run per node and kind: the work the pruned plan actually does. */
  calls: Map<string, Partial<Record<TrainOpKind, number>>>;
  /** dL/d(pre-clamp output) of every node whose backward ran, as its input_grad / update read it. */
  dys: Map<string, Float32Array>;
}

/** A node's forward result supplied from outside: its output values and (if it has one) its mask, 1 bit per element, LSB first. */
export interface GivenForward {
  y: Float32Array;
  mask?: Uint8Array;
}

export interface ReferenceStepOptions {
  /** Forward results by node name, used instead of the fp32 forward of those nodes. */
  forward?: ReadonlyMap<string, GivenForward>;
}

type Value = Float32Array | Uint8Array;

/** Runs one train step of `plan` on one sample; `target` is the label (CE) or the target vector (MSE). */
export function runReferenceStep(
  graph: Graph, recipe: ResolvedRecipe, plan: TrainStepPlan, input: Float32Array, target: number | Float32Array, options: ReferenceStepOptions = {},
): ReferenceStepResult {
  const index = indexNodes(graph);
  const nodeOf = (name: string) => graph.nodes[index.get(name)!];
  const training = new Map(recipe.layers.map((l) => [l.layer, l]));
  const values = new Map<number, Value>();
  const grads = new Map<string, Float32Array>();
  const calls = new Map<string, Partial<Record<TrainOpKind, number>>>();
  const dys = new Map<string, Float32Array>();
  let loss = NaN;

  const stepInputs = plan.buffers.filter((b) => b.stepInput);
  const sample = stepInputs.find((b) => b.name === 'input' || b.name === 'sample')!;
  values.set(sample.id, input);
  values.set(stepInputs.find((b) => b !== sample)!.id, typeof target === 'number' ? Float32Array.of(target) : target);
  const read = (op: TrainOp, id: number | undefined): Value => {
    const v = id === undefined ? undefined : values.get(id);
    if (!v) throw new ShapeError(`${op.kind} ${op.node}: reads buffer ${id === undefined ? '(none)' : `'${plan.buffers[id].name}'`}, which is not live`);
    return v;
  };
  const f32 = (op: TrainOp, id: number | undefined) => read(op, id) as Float32Array;

  for (const op of plan.ops) {
    for (const id of readsOf(op)) if (!isParamState(plan, id)) read(op, id);
    const c = calls.get(op.node) ?? {};
    c[op.kind] = (c[op.kind] ?? 0) + 1;
    calls.set(op.node, c);
    const node = nodeOf(op.node);
    const inShapes = node.inputs.map((n) => nodeOf(n).shape);

    if (op.kind === 'forward') {
      const xs = op.inputs!.map((id) => f32(op, id));
      // the input node's forward (a float sample quantized on the device) is the identity in fp32
      const given = options.forward?.get(node.name);
      const y = given ? given.y.slice() : node.kind === 'input' ? xs[0].slice() : (fp32Ops[node.kind] as Fp32Op).forward(node, xs, inShapes, 1);
      values.set(op.output!, y);
      if (op.mask !== undefined) values.set(op.mask, given?.mask ?? maskOf(node, y));
      if (op.saved !== undefined) {
        const b = plan.buffers[op.saved];
        values.set(op.saved, b.aliasOf !== undefined ? read(op, b.aliasOf) : gatherChannels(xs[0], inShapes[0], b.channels!, node.kind === 'fully_connected'));
      }
    } else if (op.kind === 'loss') {
      const logits = f32(op, op.inputs![0]);
      const t = f32(op, op.target);
      const r = recipe.loss === 'mse' ? meanSquaredError(logits, t) : softmaxCrossEntropy(logits, [t[0]], logits.length);
      loss = r.loss;
      values.set(op.output!, r.grad);
      values.set(op.lossValue!, Float32Array.of(r.loss));
    } else if (op.kind === 'activation_grad') {
      const dy = f32(op, op.dy);
      const mask = read(op, op.mask) as Uint8Array;
      for (let i = 0; i < dy.length; i++) if (!(mask[i >> 3] & (1 << (i & 7)))) dy[i] = 0;
      for (const w of op.dx ?? []) write(values, w.buffer, dy, w.accumulate, op);
    } else if (op.kind === 'input_grad') {
      const dy = f32(op, op.dy);
      if (!dys.has(op.node)) dys.set(op.node, dy.slice());
      const dxs = inputGrads(node, inShapes, dy, op.saved === undefined ? undefined : f32(op, op.saved));
      for (const w of op.dx!) write(values, w.buffer, dxs[w.operand], w.accumulate, op);
    } else {
      const p = node as ParamNode;
      const l = training.get(p.name)!;
      const x = op.saved === undefined ? new Float32Array(size(inShapes[0])) : scatterChannels(plan, op.saved, f32(op, op.saved), inShapes[0], p.kind === 'fully_connected');
      const dy = f32(op, op.dy);
      if (!dys.has(op.node)) dys.set(op.node, dy.slice());
      const { dw, db } = paramGrads(p, inShapes[0], x, dy);
      if (l.weightRatio > 0) grads.set(p.weight.name, dw);
      if (l.trainBias) grads.set(p.bias.name, db);
    }
    for (const b of plan.buffers) if (b.lastReader === op.index && !b.persistent) values.delete(b.id);
  }
  return { loss, grads, calls, dys };
}

/** Trainable slices and optimizer state are the graph's own parameters here: not materialized. */
function isParamState(plan: TrainStepPlan, id: number): boolean {
  const c = plan.buffers[id].category;
  return c === Category.TRAINABLE || c === Category.OPTIMIZER;
}

function write(values: Map<number, Value>, id: number, g: Float32Array, accumulate: boolean, op: TrainOp): void {
  if (!accumulate) {
    values.set(id, g.slice());
    return;
  }
  const acc = values.get(id) as Float32Array | undefined;
  if (!acc) throw new ShapeError(`${op.kind} ${op.node}: accumulates into a gradient that is not live`);
  for (let i = 0; i < acc.length; i++) acc[i] += g[i];
}

/** 1 bit per element, LSB first: set where the clamp passed its input through. */
function maskOf(node: Node, y: Float32Array): Uint8Array {
  const hi = node.kind === 'relu6' || ('activation' in node && node.activation === 'relu6') ? 6 : Infinity;
  const mask = new Uint8Array(Math.ceil(y.length / 8));
  for (let i = 0; i < y.length; i++) if (y[i] > 0 && y[i] < hi) mask[i >> 3] |= 1 << (i & 7);
  return mask;
}

/** The listed channels of every pixel (or the listed features of a flattened input). */
function gatherChannels(x: Float32Array, shape: readonly number[], channels: number[], flat: boolean): Float32Array {
  const C = flat ? size(shape) : shape[shape.length - 1];
  const pixels = x.length / C;
  const out = new Float32Array(pixels * channels.length);
  for (let p = 0; p < pixels; p++) channels.forEach((c, k) => (out[p * channels.length + k] = x[p * C + c]));
  return out;
}

function scatterChannels(plan: TrainStepPlan, id: number, saved: Float32Array, shape: readonly number[], flat: boolean): Float32Array {
  const channels = plan.buffers[id].channels;
  if (!channels) return saved;
  const C = flat ? size(shape) : shape[shape.length - 1];
  const x = new Float32Array(size(shape));
  const pixels = x.length / C;
  for (let p = 0; p < pixels; p++) channels.forEach((c, k) => (x[p * C + c] = saved[p * channels.length + k]));
  return x;
}

/** dL/d(each input) of a node from dL/d(its pre-activation output); x only where the op needs it (max pool). */
function inputGrads(node: Node, inShapes: readonly (readonly number[])[], dy: Float32Array, x?: Float32Array): Float32Array[] {
  const zeros = new Float32Array(size(inShapes[0]));
  if (node.kind === 'conv2d' || node.kind === 'depthwise_conv2d' || node.kind === 'fully_connected') {
    return [paramGrads(node, inShapes[0], zeros, dy).dx];
  }
  if (node.kind === 'add') return [dy, dy];
  const op = fp32Ops[node.kind as Exclude<Node['kind'], 'input'>] as Fp32Op;
  return op.backward(node, [x ?? zeros], inShapes, new Float32Array(0), dy, 1, new Map());
}

function paramGrads(node: ParamNode, inShape: readonly number[], x: Float32Array, dy: Float32Array) {
  const dw = new Float32Array(node.weight.data.length);
  const db = new Float32Array(node.bias.data.length);
  let dx: Float32Array;
  if (node.kind === 'fully_connected') {
    const [outDim, inDim] = node.weight.shape;
    dx = fullyConnectedBackward(x, node.weight.data, dy, 1, inDim, outDim, dw, db);
  } else {
    const g = windowGeometry(inShape, 1, [node.weight.shape[1], node.weight.shape[2]], node.stride, node.padding);
    dx = node.kind === 'conv2d' ? conv2dBackward(g, x, node.weight.data, dy, node.weight.shape[0], dw, db) : depthwiseBackward(g, x, node.weight.data, dy, dw, db);
  }
  return { dx, dw, db };
}
