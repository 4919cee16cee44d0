// One memory plan for the whole train step: every buffer of a TrainStepPlan (activations,
// saved activations, masks, gradients in flight, trainable slices, optimizer state, loss
// scratch) gets an offset in one arena with the inference planner (planner.ts, greedy by
// size over lifetimes), so the peak is exact before anything runs. Flash holds the rest:
// frozen weights, the initial values of the trained slices, biases, quantization parameters
// and the QAS factors; it is counted here too.

import { BudgetError } from '../../formats/errors.js';
import { Category } from '../../formats/schema.js';
import { checkBudget } from '../budget.js';
import { flashBudget, type DeviceProfile } from '../devices.js';
import type { Graph } from '../graph.js';
import { planArena, type ArenaPlan, type PlanBuffer } from '../planner.js';
import { paramLayers, type ResolvedRecipe } from './recipe.js';
import type { TrainOp, TrainStepPlan } from './train_plan.js';

type CategoryName = keyof typeof Category;

export interface TrainBufferRow {
  name: string;
  dtype: string;
  bytes: number;
  offset: number;
  first: number;
  last: number;
  category: CategoryName;
  /** The buffer whose memory this one reuses (alias or in place). */
  sharesWith?: string;
}

/** Flash bytes of the train step's constants; `total` is their sum. */
export interface TrainFlash {
  /**
   * int8 weights of frozen channels (and frozen layers); a layer that keeps compact rows its
   * whole filter, which MERGE_ROWS reads.
   */
  frozenWeights: number;
  /** int8 initial values of the trained slices (compact rows: those rows), copied to SRAM when training starts. */
  trainedWeights: number;
  /** int32 biases of every layer (initial values of the trained ones). */
  biases: number;
  /** Per output channel: weight scale (f32), requantization multiplier and shift (i32 each). */
  quantParams: number;
  /** Per output channel of each trained layer: the two QAS factors 1/s_W^2 and 1/(s_W s_x)^2 (f32). */
  qasFactors: number;
  total: number;
}

export interface TrainMemoryReport {
  /** The planned arena (16-aligned max(offset + bytes)). */
  arenaBytes: number;
  peakOp: number;
  /** "op 12 forward b2_expand". */
  peakOpLabel: string;
  /** Live bytes at the peak by category. */
  breakdown: Partial<Record<CategoryName, number>>;
  /** Per category, the most bytes of it live at any op. */
  categoryPeaks: Partial<Record<CategoryName, number>>;
  /** Buffers live at the peak, largest first. */
  liveAtPeak: { name: string; bytes: number; category: CategoryName; op: string }[];
  /** Per op: its label, bytes live while it runs, highest byte in use. */
  timeline: { op: number; label: string; liveBytes: number; highWater: number }[];
  buffers: TrainBufferRow[];
  flash: TrainFlash;
  arena: ArenaPlan;
}

export function opLabel(op: TrainOp): string {
  return `op ${op.index} ${op.kind} ${op.node}`;
}

/** Places every buffer of `plan` in one arena and reports the peak, its causes and the flash use. */
export function planTrainMemory(graph: Graph, recipe: ResolvedRecipe, plan: TrainStepPlan): TrainMemoryReport {
  const labels = plan.ops.map(opLabel);
  const planBuffers: PlanBuffer[] = plan.buffers.map((b) => ({
    id: b.id, name: b.name, bytes: b.bytes, first: b.producer, last: b.lastReader, category: b.category,
    aliasOf: b.aliasOf, inPlaceOf: b.inPlaceOf, producer: b.persistent ? 'persistent' : b.stepInput ? 'step input' : labels[b.producer],
  }));
  const arena = planArena(planBuffers, { opCount: plan.ops.length });
  const name = (id: number) => plan.buffers[id].name;
  return {
    arenaBytes: arena.arenaBytes,
    peakOp: arena.peakOp,
    peakOpLabel: labels[arena.peakOp],
    breakdown: arena.breakdown,
    categoryPeaks: arena.categoryPeaks,
    liveAtPeak: arena.liveAtPeak.map((id) => ({ name: name(id), bytes: plan.buffers[id].bytes, category: Category[plan.buffers[id].category] as CategoryName, op: planBuffers[id].producer! })),
    timeline: arena.timeline.map((u) => ({ ...u, label: labels[u.op] })),
    buffers: plan.buffers.map((b) => ({
      name: b.name, dtype: b.dtype, bytes: b.bytes, offset: arena.offsets.get(b.id)!, first: b.producer, last: b.lastReader,
      category: Category[b.category] as CategoryName, sharesWith: arena.sharesWith.has(b.id) ? name(arena.sharesWith.get(b.id)!) : undefined,
    })),
    flash: trainFlash(graph, recipe, plan),
    arena,
  };
}

/** The flash the train step's constants take (the schedule and metadata are not counted). */
export function trainFlash(graph: Graph, recipe: ResolvedRecipe, plan: TrainStepPlan): TrainFlash {
  const f = { frozenWeights: 0, trainedWeights: 0, biases: 0, quantParams: 0, qasFactors: 0, total: 0 };
  paramLayers(graph).forEach((node, i) => {
    const l = recipe.layers[i];
    // a layer whose weights train has its TRAINABLE slice's initial value copied to SRAM: the
    // whole filter, or with compact rows its trained rows (the whole filter stays, for MERGE_ROWS)
    const whole = node.weight.data.length;
    const trained = l.weightRatio > 0 ? plan.buffers.find((b) => b.name === `${node.name}/weight`)!.bytes : 0;
    const outC = node.bias.data.length;
    f.trainedWeights += trained;
    f.frozenWeights += trained < whole ? whole : whole - trained;
    f.biases += 4 * outC;
    f.quantParams += 12 * outC;
    if (l.trainBias || l.weightRatio > 0) f.qasFactors += 8 * outC;
  });
  f.total = f.frozenWeights + f.trainedWeights + f.biases + f.quantParams + f.qasFactors;
  return f;
}

/**
 * Throws BudgetError when the step does not fit `device`: the arena against the SRAM budget
 * (contributors: the buffers live at the peak), then the constants against the flash budget.
 */
export function checkTrainBudget(report: TrainMemoryReport, device: DeviceProfile, what: string): void {
  checkBudget(report.arena, device, what);
  const available = flashBudget(device);
  if (report.flash.total > available) {
    const { total, ...parts } = report.flash;
    const contributors = Object.entries(parts).map(([name, bytes]) => ({ name, bytes })).filter((p) => p.bytes > 0).sort((a, b) => b.bytes - a.bytes);
    throw new BudgetError(`${what} on ${device.name} (flash constants)`, total, available, contributors);
  }
}
