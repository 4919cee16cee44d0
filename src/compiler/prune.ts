// The pruning tool for group-sparse inference: gradual magnitude pruning of 1x1 convolutions
// and fully connected layers in g x 1 blocks or 2:4, with fp32 fine-tuning, and a per-layer
// sensitivity analysis. Usage and the definitions behind each number: docs/pruning.md.
//
//   const { graph: pruned, layers, history } = pruneGraph(graph, { train, test },
//     { pattern: 'group', group: 4, sparsity: 0.7, epochs: 4, seed: 1 });
//
// The input graph is never modified: pruning works on a copy. Pruned weights are exactly 0
// (+0) in the returned graph and after every optimizer step, so the int8 quantizer turns them
// into int8 zeros and the sparse encoder can drop them.

import { ValueError } from '../formats/errors.js';
import type { QuantParams } from '../formats/qmodel.js';
import { forward } from './engine.js';
import { cloneGraph, size, type Graph } from './graph.js';
import { globalMagnitudeTargets, referenceBlockNorms, sensitivityTargets, type SensitivityPoint } from './prune/allocate.js';
import { pruneLayers, type GroupSize, type PruneLayer, type PrunePattern } from './prune/layers.js';
import { checkDistillation, distillationLoss, teacherLogits, type DistillationOptions } from './prune/distill.js';
import { activationGrids, fakeQuantForward, WeightFakeQuant } from './prune/fake_quant.js';
import { applyMask, groupMask, maskSparsity, nmMask, type Mask } from './prune/masks.js';
import { checkSchedule, isMaskUpdate, rampProgress, sparsityAt, type GradualSchedule } from './prune/schedule.js';
import { evaluate, trainFp32, type Dataset, type TrainOptions } from './train_fp32.js';

export { GROUP_SIZES, prunableLayerNames, type GroupSize, type PrunePattern } from './prune/layers.js';
export type { Mask } from './prune/masks.js';
export type { DistillationOptions } from './prune/distill.js';
export type { SensitivityPoint } from './prune/allocate.js';

export interface PruneData {
  /** Fine-tuning samples (and, for `allocation: 'sensitivity'`, the samples sensitivity is measured on). */
  train: Dataset;
  /** Held-out samples: accuracy before pruning and after every fine-tuning epoch. */
  test?: Dataset;
}

/** How a `sparsity` target over several layers is split between them (see prune/allocate.ts). */
export type Allocation = 'uniform' | 'global' | 'sensitivity';

export interface PruneOptions {
  /** Default 'group'. */
  pattern?: PrunePattern;
  /** Output channels per block for the group pattern; default 4 (a layer whose outC it does not divide uses the largest that does). */
  group?: GroupSize;
  /** Layers to prune; default every 1x1 convolution after the first conv and every fully connected layer. */
  layers?: string[];
  /** Final fraction of the pruned layers' weights that are zero. Default 0.7 (group), 0.5 (2:4, the only value it allows). */
  sparsity?: number;
  /** Per-layer final sparsities; when given they choose the layers and replace `sparsity` and `allocation`. */
  targets?: Record<string, number>;
  /** Default 'uniform' (every layer at `sparsity`). */
  allocation?: Allocation;
  /** For `allocation: 'sensitivity'`: a table from layerSensitivity(); measured on up to 1,000 training samples when absent. */
  sensitivity?: SensitivityPoint[];
  /** Sparsity applied before the first step. Default 0. */
  initialSparsity?: number;
  /** Fine-tuning epochs over `data.train`; 0 prunes at once to the final sparsity, without training. */
  epochs: number;
  /** Steps over which sparsity ramps to its final value; default 3/4 of all fine-tuning steps. */
  rampSteps?: number;
  /** Steps between mask updates; default rampSteps / 16 (at least 1). */
  updateEvery?: number;
  /** Fine-tuning optimizer settings; default Adam, learning rate 2e-3, cosine decay, batch 32. */
  training?: Pick<TrainOptions, 'batchSize' | 'optimizer' | 'learningRate' | 'schedule' | 'momentum'>;
  /** Distil while fine-tuning (prune/distill.ts); default plain cross-entropy. */
  distillation?: DistillationOptions;
  /**
   * The graph (or graphs: their logits are averaged) distilled from; default the unpruned input
   * graph. Any graph that takes the same input samples and gives the same classes will do.
   */
  teacher?: Graph | Graph[];
  /**
   * The last `quantizationAwareEpochs` fine-tuning epochs run forward on int8-rounded weights
   * and activations (prune/fake_quant.ts, straight-through backward), so the weights settle
   * where PTQ's rounding costs least. Default 0.
   */
  quantizationAwareEpochs?: number;
  /** Seed of the fine-tuning shuffle: same graph, data, options and seed give the same weights. */
  seed: number;
  /** Called after every fine-tuning step, once the masks are applied (progress reporting). */
  onStep?: (progress: PruneProgress) => void;
}

/** What onStep sees. `graph` and `masks` are live: read them during the call, do not keep or modify them. */
export interface PruneProgress {
  step: number;
  totalSteps: number;
  /** Fraction of the pruned layers' weights that are zero now. */
  sparsity: number;
  graph: Graph;
  masks: ReadonlyMap<string, Mask>;
}

/** One point of the accuracy history; epoch 0 is the unpruned graph. */
export interface PruneRecord {
  epoch: number;
  /** Optimizer steps done. */
  step: number;
  /** Fraction of the pruned layers' weights that are zero. */
  sparsity: number;
  /** Mean training loss over the epoch (absent for epoch 0). */
  loss?: number;
  testLoss?: number;
  testAccuracy?: number;
}

/** One row of the per-layer table. */
export interface LayerReport {
  layer: string;
  kind: 'conv1x1' | 'fully_connected';
  /** Weight shape: [outC, 1, 1, inC] or [outC, inC]. */
  shape: number[];
  /** 'g4' (blocks of 4 output channels x 1 input channel), ..., or '2:4'. */
  pattern: string;
  /** Fraction of the layer's weights that are zero under its mask. */
  sparsity: number;
  weights: number;
  /** Weights the mask keeps. */
  kept: number;
  /** Why the block shape differs from the one asked for, if it does. */
  note?: string;
}

export interface PruneResult {
  /** A pruned copy of the input graph. */
  graph: Graph;
  /** Mask of every pruned layer by node name: one byte per weight, 1 = kept (prune/masks.ts). */
  masks: Map<string, Mask>;
  layers: LayerReport[];
  history: PruneRecord[];
  /** Fraction of all the pruned layers' weights that are zero. */
  sparsity: number;
}

const SENSITIVITY_SAMPLES = 1000;
/** Quantization-aware epochs recalibrate activation ranges on the first training samples, as the CLI's PTQ does. */
const QAT_CALIBRATION_SAMPLES = 500;
export const DEFAULT_SENSITIVITY_GRID = [0.5, 0.7, 0.8, 0.9, 0.95];

/** Gradual magnitude pruning with fine-tuning; see PruneOptions. */
export function pruneGraph(graph: Graph, data: PruneData, options: PruneOptions): PruneResult {
  const pattern = options.pattern ?? 'group';
  const g = cloneGraph(graph);
  const layers = pruneLayers(g, pattern, options.group ?? 4, options.targets ? Object.keys(options.targets) : options.layers);
  const finalTargets = resolveTargets(graph, data, layers, options);
  const training = { batchSize: 32, optimizer: 'adam' as const, learningRate: 2e-3, schedule: 'cosine' as const, ...options.training };
  const totalSteps = options.epochs * Math.ceil(data.train.count / training.batchSize);
  const rampSteps = options.rampSteps ?? Math.max(1, Math.round(0.75 * totalSteps));
  if (totalSteps > 0 && rampSteps > totalSteps) throw new ValueError(`ramp of ${rampSteps} steps is longer than the ${totalSteps} fine-tuning steps`);
  const overall = pattern === '2:4' ? 0.5 : options.sparsity ?? 0.7;
  const schedule: GradualSchedule = {
    initialSparsity: Math.min(options.initialSparsity ?? 0, overall),
    finalSparsity: overall,
    rampSteps: totalSteps === 0 ? 1 : rampSteps,
    updateEvery: options.updateEvery ?? Math.max(1, Math.round(rampSteps / 16)),
  };
  checkSchedule(schedule);

  const norms = referenceBlockNorms(layers);
  const targetsAt = (step: number, previous?: Mask[]): number[] => {
    if (finalTargets === 'global') return globalMagnitudeTargets(layers, norms, sparsityAt(step, schedule), previous);
    const p = rampProgress(step, schedule);
    return finalTargets.map((t) => Math.min(schedule.initialSparsity, t) + (t - Math.min(schedule.initialSparsity, t)) * p);
  };
  const start = totalSteps === 0 ? schedule.rampSteps : 0;
  let masks = layers.map((l, i) => layerMask(l, targetsAt(start)[i]));
  const applyAll = (): void => layers.forEach((l, i) => applyMask(l.node.weight.data, masks[i]));
  applyAll();

  const history: PruneRecord[] = [];
  if (data.test) {
    const e = evaluate(graph, data.test);
    history.push({ epoch: 0, step: 0, sparsity: 0, testLoss: e.loss, testAccuracy: e.accuracy });
  }
  if (totalSteps > 0) {
    const qatEpochs = options.quantizationAwareEpochs ?? 0;
    if (!(Number.isInteger(qatEpochs) && qatEpochs >= 0 && qatEpochs <= options.epochs)) {
      throw new ValueError(`quantization-aware epochs must be an integer in [0, ${options.epochs}], got ${qatEpochs}`);
    }
    const stepsPerEpoch = Math.ceil(data.train.count / training.batchSize);
    const qatFrom = totalSteps - qatEpochs * stepsPerEpoch;
    const fakeQuant = new WeightFakeQuant(g);
    const calibration = sample(data.train, QAT_CALIBRATION_SAMPLES).images;
    let grids = new Map<string, QuantParams>();
    const distill = options.distillation;
    if (distill) checkDistillation(distill);
    const teacher = distill ? teacherLogits(options.teacher ?? graph, data.train) : undefined;
    const classes = size(graph.nodes.find((n) => n.name === graph.output)!.shape);
    trainFp32(g, data.train, {
      ...training,
      epochs: options.epochs,
      seed: options.seed,
      test: data.test,
      loss: distill ? (logits, labels, samples) => distillationLoss(logits, labels, samples, teacher!, classes, distill) : undefined,
      forward: (net, input, batch, step) => {
        if (step < qatFrom) return forward(net, input, batch);
        if ((step - qatFrom) % stepsPerEpoch === 0) grids = activationGrids(net, calibration); // float weights, as PTQ sees them
        fakeQuant.swapIn();
        return fakeQuantForward(net, input, batch, grids);
      },
      beforeUpdate: () => fakeQuant.restore(),
      afterStep: (step) => {
        if (isMaskUpdate(step, schedule)) {
          const targets = targetsAt(step, masks);
          masks = layers.map((l, i) => layerMask(l, targets[i], masks[i]));
        }
        applyAll();
        if (options.onStep) {
          const live = new Map(layers.map((l, i) => [l.node.name, masks[i]]));
          options.onStep({ step, totalSteps, sparsity: overallSparsity(masks), graph: g, masks: live });
        }
      },
      onEpoch: (r) => history.push({ epoch: r.epoch, step: r.epoch * Math.ceil(data.train.count / training.batchSize), sparsity: overallSparsity(masks), loss: r.loss, testLoss: r.testLoss, testAccuracy: r.testAccuracy }),
    });
  } else if (data.test) {
    const e = evaluate(g, data.test);
    history.push({ epoch: 0, step: 0, sparsity: overallSparsity(masks), testLoss: e.loss, testAccuracy: e.accuracy });
  }
  return {
    graph: g,
    masks: new Map(layers.map((l, i) => [l.node.name, masks[i]])),
    layers: layers.map((l, i) => layerReport(l, masks[i])),
    history,
    sparsity: overallSparsity(masks),
  };
}

/** The mask of one layer at `sparsity` (fraction of its weights), monotone with `previous`. */
function layerMask(l: PruneLayer, sparsity: number, previous?: Mask): Mask {
  const w = l.node.weight.data;
  return l.pattern === '2:4' ? nmMask(w, l.outC, l.inC, sparsity, previous) : groupMask(w, l.outC, l.inC, l.group, sparsity, previous);
}

/** Final per-layer sparsities, or 'global' when they are re-ranked at every mask update. */
function resolveTargets(graph: Graph, data: PruneData, layers: PruneLayer[], o: PruneOptions): number[] | 'global' {
  const check = (what: string, s: number, max: number): number => {
    if (!(s >= 0 && s <= max)) throw new ValueError(`${what} must be in [0, ${max}], got ${s}`);
    return s;
  };
  if (layers[0].pattern === '2:4') {
    if (o.sparsity !== undefined && o.sparsity !== 0.5) throw new ValueError(`2:4 pruning is 50% sparse by construction; got sparsity ${o.sparsity}`);
    if (o.targets) Object.entries(o.targets).forEach(([name, s]) => check(`2:4 target of "${name}"`, s, 0.5));
    return layers.map((l) => o.targets?.[l.node.name] ?? 0.5);
  }
  if (o.targets) return layers.map((l) => check(`target of "${l.node.name}"`, o.targets![l.node.name], 0.99));
  const sparsity = check('sparsity', o.sparsity ?? 0.7, 0.99);
  switch (o.allocation ?? 'uniform') {
    case 'uniform': return layers.map(() => sparsity);
    case 'global': return 'global';
    case 'sensitivity': {
      const names = layers.map((l) => l.node.name);
      const table = o.sensitivity ?? layerSensitivity(graph, sample(data.train, SENSITIVITY_SAMPLES), names, DEFAULT_SENSITIVITY_GRID, { group: o.group }).points;
      return sensitivityTargets(layers, table, sparsity);
    }
    default: throw new ValueError(`allocation must be uniform, global or sensitivity, got ${o.allocation}`);
  }
}

function sample(set: Dataset, count: number): Dataset {
  const n = Math.min(count, set.count);
  const per = set.images.length / set.count;
  return { images: set.images.subarray(0, n * per), labels: set.labels.subarray(0, n), count: n };
}

function overallSparsity(masks: Mask[]): number {
  let pruned = 0;
  let total = 0;
  for (const m of masks) {
    pruned += maskSparsity(m) * m.length;
    total += m.length;
  }
  return total ? pruned / total : 0;
}

function layerReport(l: PruneLayer, mask: Mask): LayerReport {
  const weights = mask.length;
  const sparsity = maskSparsity(mask);
  return {
    layer: l.node.name,
    kind: l.node.kind === 'conv2d' ? 'conv1x1' : 'fully_connected',
    shape: [...l.node.weight.shape],
    pattern: l.pattern === '2:4' ? '2:4' : `g${l.group}`,
    sparsity,
    weights,
    kept: weights - Math.round(sparsity * weights),
    ...(l.note ? { note: l.note } : {}),
  };
}

export interface SensitivityResult {
  /** Accuracy of the unpruned graph on the data. */
  baseline: number;
  /** One row per (layer, sparsity): accuracy with only that layer pruned, and its drop from the baseline. */
  points: (SensitivityPoint & { accuracy: number })[];
}

/**
 * Accuracy drop when each layer alone is pruned (one shot, magnitude, no fine-tuning) to
 * each sparsity, evaluated on `data`. The graph is restored before returning.
 */
export function layerSensitivity(
  graph: Graph, data: Dataset, layers?: string[], sparsities: readonly number[] = DEFAULT_SENSITIVITY_GRID,
  options: { pattern?: PrunePattern; group?: GroupSize } = {},
): SensitivityResult {
  const pattern = options.pattern ?? 'group';
  const max = pattern === '2:4' ? 0.5 : 1;
  for (const s of sparsities) if (!(s >= 0 && s <= max)) throw new ValueError(`sensitivity sparsities must be in [0, ${max}] for ${pattern}, got ${s}`);
  const baseline = evaluate(graph, data).accuracy;
  const points: SensitivityResult['points'] = [];
  for (const l of pruneLayers(graph, pattern, options.group ?? 4, layers)) {
    const original = l.node.weight.data.slice();
    for (const sparsity of sparsities) {
      applyMask(l.node.weight.data, layerMask(l, sparsity));
      const accuracy = evaluate(graph, data).accuracy;
      points.push({ layer: l.node.name, sparsity, accuracy, drop: baseline - accuracy });
      l.node.weight.data.set(original);
    }
  }
  return { baseline, points };
}
