// Expand -> depthwise streaming in a train step (lower_fuse.ts does it for inference): two
// consecutive forward ops, a 1x1 convolution and the depthwise convolution that alone reads
// its output, become one forward op of the depthwise node that reads the expand's input, plus
// a SCRATCH buffer `<expand>/rows` (the ring of expanded rows) live only during that op.
//
// Only where the step needs nothing of the pair but the depthwise output: neither layer
// trains (no TRAINABLE slice, no saved input), and the expanded tensor has no mask and no
// other reader (its backward does not run): the frozen prefix of a sparse update. A mask of
// the depthwise output stays (the fused op writes that output whole). The ring takes the id
// of the expanded activation it replaces, so no other buffer id changes.

import { SparrowError } from '../formats/errors.js';
import { Category } from '../formats/schema.js';
import { indexNodes, type Graph } from './graph.js';
import { ringRowsFor } from './lower_fuse.js';
import type { ResolvedRecipe } from './train/recipe.js';
import { planTrainMemory, type TrainMemoryReport } from './train/train_memory.js';
import { bufferBytes, readsOf, writesOf, type TrainBuffer, type TrainOp, type TrainStepPlan } from './train/train_plan.js';

export type StepFuseMode = 'auto' | 'never' | 'always';

export interface FusedStep {
  plan: TrainStepPlan;
  memory: TrainMemoryReport;
  /** Expand nodes streamed into their depthwise (the inference lowering's `fuse: { only }`). */
  expanded: string[];
}

/**
 * Applies `mode` to `plan`: `always` streams every eligible pair, `auto` does so when the
 * unfused step's arena exceeds `budgetBytes` (no budget: never), `never` keeps the plan.
 */
export function chooseStepFusion(graph: Graph, recipe: ResolvedRecipe, plan: TrainStepPlan, mode: StepFuseMode, budgetBytes?: number): FusedStep {
  const unfused = { plan, memory: planTrainMemory(graph, recipe, plan), expanded: [] };
  if (mode === 'never' || (mode === 'auto' && (budgetBytes === undefined || unfused.memory.arenaBytes <= budgetBytes))) return unfused;
  const pairs = fusableForwardPairs(graph, plan);
  if (pairs.length === 0) return unfused;
  const fused = fuseTrainStep(graph, plan, pairs);
  return { plan: fused, memory: planTrainMemory(graph, recipe, fused), expanded: pairs.map((i) => plan.ops[i].node) };
}

/** Index i of every forward op pair (i, i + 1) that can run as one streamed op. */
export function fusableForwardPairs(graph: Graph, plan: TrainStepPlan): number[] {
  const nodes = indexNodes(graph);
  const node = (name: string) => graph.nodes[nodes.get(name)!];
  const readers = new Map<number, number>();
  for (const op of plan.ops) for (const id of readsOf(op)) readers.set(id, (readers.get(id) ?? 0) + 1);
  const aliased = new Set(plan.buffers.flatMap((b) => [b.aliasOf, b.inPlaceOf]).filter((id) => id !== undefined));
  const frozen = (op: TrainOp) => op.kind === 'forward' && op.weight === undefined && op.bias === undefined && op.saved === undefined;
  const pairs: number[] = [];
  for (let i = 0; i + 1 < plan.ops.length; i++) {
    const [e, d] = [plan.ops[i], plan.ops[i + 1]];
    if (!frozen(e) || !frozen(d) || e.mask !== undefined || e.output === undefined) continue;
    const [en, dn] = [node(e.node), node(d.node)];
    if (en.kind !== 'conv2d' || dn.kind !== 'depthwise_conv2d' || dn.inputs[0] !== en.name) continue;
    const [, kH, kW] = en.weight.shape;
    if (kH !== 1 || kW !== 1 || en.stride[0] !== 1 || en.stride[1] !== 1 || en.name === graph.output) continue;
    if (readers.get(e.output) !== 1 || aliased.has(e.output) || d.inputs?.[0] !== e.output) continue;
    pairs.push(i);
    i++;
  }
  return pairs;
}

/** The plan with each pair at `pairs` (from fusableForwardPairs) as one forward op; lifetimes recomputed. */
export function fuseTrainStep(graph: Graph, plan: TrainStepPlan, pairs: number[]): TrainStepPlan {
  const nodes = indexNodes(graph);
  const at = new Set(pairs);
  const buffers: TrainBuffer[] = plan.buffers.map((b) => ({ ...b, producer: -1, lastReader: -1 }));
  const ops: TrainOp[] = [];
  const rings: number[] = [];
  for (let i = 0; i < plan.ops.length; i++) {
    const op = plan.ops[i];
    if (!at.has(i)) {
      ops.push({ ...op, index: ops.length });
      continue;
    }
    const d = plan.ops[++i];
    const x = graph.nodes[nodes.get(graph.nodes[nodes.get(op.node)!].inputs[0])!];
    const [inH, inW] = x.shape; // per-sample [H, W, C]
    const dw = graph.nodes[nodes.get(d.node)!];
    if (dw.kind !== 'depthwise_conv2d') throw new SparrowError(`train step: '${d.node}' is not a depthwise convolution`);
    const [, kH, , ce] = dw.weight.shape;
    const elements = ringRowsFor(kH, inH) * inW * ce;
    Object.assign(buffers[op.output!], {
      name: `${op.node}/rows`, dtype: 'int8', elements, bytes: bufferBytes('int8', elements), category: Category.SCRATCH, node: d.node,
    });
    rings.push(op.output!);
    ops.push({ ...d, index: ops.length, inputs: op.inputs, macs: op.macs + d.macs });
  }
  const last = ops.length - 1;
  const touch = (id: number, k: number) => {
    const b = buffers[id];
    if (b.producer < 0) b.producer = k;
    b.lastReader = Math.max(b.lastReader, k);
  };
  for (const op of ops) {
    for (const id of writesOf(op)) touch(id, op.index);
    for (const id of readsOf(op)) buffers[id].lastReader = Math.max(buffers[id].lastReader, op.index);
  }
  for (const id of rings) touch(id, ops.findIndex((op) => op.kind === 'forward' && op.node === buffers[id].node));
  for (const b of buffers) {
    if (b.stepInput) b.producer = 0;
    if (b.persistent) [b.producer, b.lastReader] = [0, last];
    b.lastReader = Math.max(b.lastReader, b.producer);
  }
  return { graph: plan.graph, ops, buffers };
}

/** The ring of a fused forward op (its SCRATCH buffer), or undefined for any other op. */
export function ringOf(plan: TrainStepPlan, op: TrainOp): number | undefined {
  if (op.kind !== 'forward') return undefined;
  const id = plan.buffers.findIndex((b) => b.category === Category.SCRATCH && b.node === op.node && b.name.endsWith('/rows'));
  return id < 0 ? undefined : id;
}
