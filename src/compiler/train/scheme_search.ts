// Scheme search: which sparse update to train under a memory budget (DESIGN.md section 5;
// the anchor's "contribution analysis", whose search code was not released).
//
// 1. Measure contributions with short seeded runs:
//    - biasGain[k]: accuracy of classifier + biases of the last k layers, minus classifier only;
//    - weightGain[layer][ratio]: accuracy of bias-only (every bias below the classifier) plus
//      that one layer's weights at that channel ratio, minus bias-only.
//    The runs are a host proxy: fp32 SGD, batch 1, on the dequantized graph of the int8 model
//    (graphOfQModel), restricted to the scheme's parameters (frozen values are restored after
//    every step, the channels are the ones the device would select). All runs see the same
//    samples in the same order, so their differences are not blurred by data order.
// 2. Expected gain of a scheme = biasGain[k] + sum over layers of weightGain[layer][ratio]
//    (additivity, as the anchor assumes).
// 3. Search: schemes are enumerated in exactly decreasing expected gain (best-first over the
//    per-dimension options, each state generated once) and the first whose train step fits
//    is returned: it is the best that fits. Schemes that train at least as much as one found
//    too big are skipped unplanned (memory assumed monotone). Memory is the train step's
//    planned arena and its flash constants as lowerTrainStep plans and checks them
//    (planTrainStep: the same sample type and the same streamed expand -> depthwise pairs).
//    If the search gives up (huge spaces), a greedy choice is returned instead.

import { BudgetError } from '../../formats/errors.js';
import type { QModel } from '../../formats/qmodel.js';
import { DEVICES, flashBudget, sramBudget, type DeviceProfile } from '../devices.js';
import { cloneGraph, hasParams, type Graph } from '../graph.js';
import { evaluate, trainFp32, type Dataset } from '../train_fp32.js';
import { planTrainStep, type TrainLowerOptions } from './lower_train.js';
import { graphOfQModel } from './qmodel_graph.js';
import { resolveRecipe, WEIGHT_RATIOS, type LayerTraining, type TrainRecipe, type WeightRatio } from './recipe.js';
import { layersBelowClassifier } from './schemes.js';
import type { TrainMemoryReport } from './train_memory.js';

/** A sparse-update scheme: the classifier always trains. */
export interface Scheme {
  biasLastK: number;
  /** Weight ratio per layer below the classifier; layers not listed are frozen. */
  weights: { layer: string; ratio: WeightRatio }[];
}

/** Measured accuracy gains (fractions of the validation set, e.g. 0.012 = 1.2 points). */
export interface Contributions {
  model: string;
  /** Layers below the classifier, in node order. */
  layers: string[];
  /** biasGain[k], k = 0..layers.length, over classifier only; biasGain[0] = 0. */
  biasGain: number[];
  /** weightGain[layer][ratio]: extra gain over bias-only (every bias below the classifier). */
  weightGain: Record<string, Partial<Record<WeightRatio, number>>>;
  /** Validation accuracy of the two reference runs. */
  baseline: { classifierOnly: number; biasOnly: number };
  /** How the gains were measured. */
  proxy: string;
}

export interface MeasureOptions {
  train: Dataset;
  validation: Dataset;
  /** Training samples per run (one SGD step each). Default: all of `train`. */
  steps?: number;
  /** fp32 SGD rate of every run. Default 0.005. */
  learningRate?: number;
  /** Seed of the sample order, shared by all runs. Default 0. */
  seed?: number;
  ratios?: readonly WeightRatio[];
  /** Called before each run: its label, its index and the run count. */
  onRun?: (label: string, index: number, runs: number) => void;
}

/** Runs the contribution analysis on the dequantized graph of `qmodel` (1 + n + n x ratios short runs). */
export function measureContributions(qmodel: QModel, options: MeasureOptions): Contributions {
  const { graph } = graphOfQModel(qmodel);
  const layers = layersBelowClassifier(graph);
  const ratios = options.ratios ?? WEIGHT_RATIOS;
  const steps = Math.min(options.steps ?? options.train.count, options.train.count);
  const train: Dataset = { images: options.train.images.subarray(0, (options.train.images.length / options.train.count) * steps), labels: options.train.labels.subarray(0, steps), count: steps };
  const lr = options.learningRate ?? 0.005;
  const runs = 1 + layers.length + layers.length * ratios.length;
  let run = 0;
  const accuracy = (label: string, recipe: TrainRecipe): number => {
    options.onRun?.(label, run++, runs);
    return proxyAccuracy(graph, recipe, train, options.validation, lr, options.seed ?? 0);
  };
  const classifierOnly = accuracy('classifier only', {});
  const biasGain = [0];
  for (let k = 1; k <= layers.length; k++) biasGain.push(accuracy(`biases of the last ${k}`, { biasLastK: k }) - classifierOnly);
  const biasOnly = classifierOnly + biasGain[layers.length];
  const weightGain: Contributions['weightGain'] = {};
  for (const layer of layers) {
    weightGain[layer] = {};
    for (const ratio of ratios) {
      weightGain[layer][ratio] = accuracy(`${layer} at ${ratio}`, { biasLastK: layers.length, weights: [{ layer, ratio }] }) - biasOnly;
    }
  }
  return {
    model: graph.name, layers, biasGain, weightGain, baseline: { classifierOnly, biasOnly },
    proxy: `host fp32 SGD (batch 1, lr ${lr}, ${steps} steps, seed ${options.seed ?? 0}) on the dequantized int8 model, accuracy on ${options.validation.count} validation samples`,
  };
}

/** Validation accuracy after fp32 SGD that updates only what `recipe` trains. */
function proxyAccuracy(graph: Graph, recipe: TrainRecipe, train: Dataset, validation: Dataset, lr: number, seed: number): number {
  const g = cloneGraph(graph);
  const resolved = resolveRecipe(g, recipe);
  const frozen = g.nodes.filter(hasParams).flatMap((node, i) => {
    const l = resolved.layers[i];
    return [
      { data: node.weight.data, initial: node.weight.data.slice(), trains: weightMask(node.weight.data.length, node.bias.data.length, l) },
      { data: node.bias.data, initial: node.bias.data.slice(), trains: new Uint8Array(node.bias.data.length).fill(l.trainBias ? 1 : 0) },
    ];
  });
  trainFp32(g, train, {
    epochs: 1, batchSize: 1, optimizer: 'sgd', momentum: 0, learningRate: lr, schedule: 'cosine', seed,
    afterStep: () => {
      for (const p of frozen) for (let i = 0; i < p.data.length; i++) if (!p.trains[i]) p.data[i] = p.initial[i];
    },
  });
  return evaluate(g, validation).accuracy;
}

/** 1 for the weights of the layer's selected channels (output rows, or depthwise channels: the last axis). */
function weightMask(count: number, channels: number, l: LayerTraining): Uint8Array {
  const mask = new Uint8Array(count);
  const perRow = count / channels;
  for (const c of l.channels) {
    if (l.channelAxis === 'channel') for (let i = c; i < count; i += channels) mask[i] = 1;
    else mask.fill(1, c * perRow, (c + 1) * perRow);
  }
  return mask;
}

/** Expected accuracy gain of `scheme` over classifier only, assuming contributions add up. */
export function expectedGain(c: Contributions, scheme: Scheme): number {
  return (c.biasGain[scheme.biasLastK] ?? 0) + scheme.weights.reduce((s, w) => s + (c.weightGain[w.layer]?.[w.ratio] ?? 0), 0);
}

export function schemeRecipe(scheme: Scheme): TrainRecipe {
  return { biasLastK: scheme.biasLastK, weights: scheme.weights.map((w) => ({ ...w })) };
}

export function describeScheme(scheme: Scheme): string {
  const parts = ['classifier'];
  if (scheme.biasLastK > 0) parts.push(`biases of the last ${scheme.biasLastK}`);
  for (const w of scheme.weights) parts.push(`${w.layer} at ${w.ratio}`);
  return parts.join(' + ');
}

/** SRAM and flash of one train step. */
export interface SchemeMemory {
  arenaBytes: number;
  flashBytes: number;
  /** Expand -> depthwise pairs the step streams (planTrainStep's choice). */
  streamedPairs?: number;
  /** For the error when nothing fits. */
  liveAtPeak?: TrainMemoryReport['liveAtPeak'];
}

/** What decides the step's shape: the sample's type, the streaming mode and the device `fuse: 'auto'` compares with. */
export type StepMemoryOptions = Pick<TrainLowerOptions, 'device' | 'fuse' | 'input'>;

/**
 * The memory of a scheme's train step for `qmodel`: the plan lowerTrainStep lowers and checks
 * with the same options (planTrainStep: same sample type, same streamed pairs).
 */
export function trainStepMemory(qmodel: QModel, options: StepMemoryOptions = {}): (recipe: TrainRecipe) => SchemeMemory {
  const { graph } = graphOfQModel(qmodel);
  return (recipe) => {
    const { memory, expanded } = planTrainStep(graph, resolveRecipe(graph, recipe), options);
    return { arenaBytes: memory.arenaBytes, flashBytes: memory.flash.total, streamedPairs: expanded.length, liveAtPeak: memory.liveAtPeak };
  };
}

export interface SearchOptions {
  device: DeviceProfile;
  /** Arena budget; default the device's (sramBudget). */
  budgetBytes?: number;
  /**
   * Default trainStepMemory(qmodel, { device, fuse, input }): `fuse: 'auto'` streams when the
   * step does not fit the device (as lowerTrainStep decides), not `budgetBytes`; a smaller
   * budget that needs streaming wants `fuse: 'always'`. Tests pass a synthetic one.
   */
  memoryOf?: (recipe: TrainRecipe) => SchemeMemory;
  /** The step's sample type and streaming mode, as lowerTrainStep will be given them (defaults: float32, auto). */
  input?: TrainLowerOptions['input'];
  fuse?: TrainLowerOptions['fuse'];
  /** Memory plans before the search gives up and falls back to a greedy choice. Default 5000. */
  maxEvaluations?: number;
}

export interface SchemeChoice {
  scheme: Scheme;
  recipe: TrainRecipe;
  label: string;
  expectedGain: number;
  memory: SchemeMemory;
  budgetBytes: number;
  /** Schemes whose memory was planned. */
  evaluated: number;
  /** True: no scheme of higher expected gain fits. False: the search gave up (maxEvaluations) and this is the greedy fallback's. */
  exhaustive: boolean;
}

interface Option { value: number; gain: number }

/** States the best-first search may visit (planned or skipped) before it gives up. */
const MAX_POPPED = 1_000_000;

/**
 * The scheme of highest expected gain whose train step fits the budget (arena and flash).
 * Throws BudgetError when not even the classifier alone fits, naming devices that would fit it.
 */
export function searchScheme(qmodel: QModel, contributions: Contributions, options: SearchOptions): SchemeChoice {
  const budget = options.budgetBytes ?? sramBudget(options.device);
  const flash = flashBudget(options.device);
  const memoryOf = options.memoryOf ?? trainStepMemory(qmodel, { device: options.device, fuse: options.fuse, input: options.input });
  const layers = contributions.layers;
  const fits = (m: SchemeMemory) => m.arenaBytes <= budget && m.flashBytes <= flash;

  const smallest = memoryOf({});
  if (!fits(smallest)) throw nothingFits(contributions.model, options.device, budget, smallest);

  // dimension 0: k; dimension 1 + i: the ratio of layers[i] (0 = frozen). Options by gain, best
  // first; ties go to the smaller option (less memory).
  const dims: Option[][] = [
    contributions.biasGain.map((gain, k) => ({ value: k, gain })),
    ...layers.map((l) => [{ value: 0, gain: 0 }, ...Object.entries(contributions.weightGain[l] ?? {}).map(([r, gain]) => ({ value: Number(r), gain: gain! }))]),
  ].map((opts) => opts.sort((a, b) => b.gain - a.gain || a.value - b.value));
  const schemeOf = (state: number[]): Scheme => ({
    biasLastK: dims[0][state[0]].value,
    weights: layers.flatMap((layer, i) => (dims[i + 1][state[i + 1]].value > 0 ? [{ layer, ratio: dims[i + 1][state[i + 1]].value as WeightRatio }] : [])),
  });
  const gainOf = (state: number[]) => state.reduce((s, o, d) => s + dims[d][o].gain, 0);

  // Best-first: from a state whose last raised dimension is j, raise any dimension >= j by one
  // option; every state is reached exactly once and popped in decreasing gain. A state that
  // trains at least as much as a known misfit in every dimension (k and each ratio) is skipped
  // unplanned: memory is assumed not to shrink when more trains (the returned scheme is
  // always planned).
  const heap = new MaxHeap<{ state: number[]; last: number; gain: number }>((a, b) => a.gain - b.gain);
  const start = dims.map(() => 0);
  heap.push({ state: start, last: 0, gain: gainOf(start) });
  const sizes = (state: number[]) => state.map((o, d) => dims[d][o].value);
  const misfits: number[][] = [];
  const dominatesMisfit = (v: number[]) => misfits.some((m) => m.every((x, d) => v[d] >= x));
  const maxEvaluations = options.maxEvaluations ?? 5000;
  let evaluated = 1; // the smallest scheme
  for (let popped = 0; heap.size > 0 && evaluated < maxEvaluations && popped < MAX_POPPED; popped++) {
    const { state, last, gain } = heap.pop()!;
    for (let d = last; d < dims.length; d++) {
      if (state[d] + 1 >= dims[d].length) continue;
      const next = state.slice();
      next[d]++;
      heap.push({ state: next, last: d, gain: gainOf(next) });
    }
    const v = sizes(state);
    if (dominatesMisfit(v)) continue;
    const scheme = schemeOf(state);
    const memory = memoryOf(schemeRecipe(scheme));
    evaluated++;
    if (fits(memory)) return { scheme, recipe: schemeRecipe(scheme), label: describeScheme(scheme), expectedGain: gain, memory, budgetBytes: budget, evaluated, exhaustive: true };
    misfits.push(v);
  }
  return { ...greedy(dims, schemeOf, gainOf, (scheme) => memoryOf(schemeRecipe(scheme)), fits, smallest), budgetBytes: budget, evaluated, exhaustive: false };
}

/**
 * The fallback when the best-first search gives up: from the smallest scheme, repeatedly take
 * the single-dimension change of largest gain increase that still fits.
 */
function greedy(dims: Option[][], schemeOf: (state: number[]) => Scheme, gainOf: (state: number[]) => number,
  memoryOf: (scheme: Scheme) => SchemeMemory, fits: (m: SchemeMemory) => boolean, smallest: SchemeMemory): Omit<SchemeChoice, 'budgetBytes' | 'evaluated' | 'exhaustive'> {
  // the smallest scheme: k = 0 and every layer frozen, wherever those options sit in the gain order
  let state = dims.map((opts) => opts.findIndex((o) => o.value === 0));
  let memory = smallest;
  for (;;) {
    let best: { state: number[]; memory: SchemeMemory; gain: number } | undefined;
    dims.forEach((opts, d) => opts.forEach((_, o) => {
      const next = state.slice();
      next[d] = o;
      const gain = gainOf(next);
      if (gain <= (best?.gain ?? gainOf(state))) return;
      const m = memoryOf(schemeOf(next));
      if (fits(m)) best = { state: next, memory: m, gain };
    }));
    if (!best) break;
    ({ state, memory } = best);
  }
  const scheme = schemeOf(state);
  return { scheme, recipe: schemeRecipe(scheme), label: describeScheme(scheme), expectedGain: gainOf(state), memory };
}

function nothingFits(model: string, device: DeviceProfile, budget: number, smallest: SchemeMemory): BudgetError {
  const roomy = Object.values(DEVICES).filter((d) => sramBudget(d) >= smallest.arenaBytes && flashBudget(d) >= smallest.flashBytes).map((d) => d.name);
  const where = roomy.length ? `it would fit a ${smallest.arenaBytes} B budget (devices: ${roomy.join(', ')})` : 'no known device has room for it';
  const contributors = (smallest.liveAtPeak ?? []).map((b) => ({ name: b.name, bytes: b.bytes, op: b.op }));
  if (smallest.flashBytes > flashBudget(device)) {
    return new BudgetError(`no sparse-update scheme of ${model} fits ${device.name}; ${where}; the smallest, classifier only, in flash`, smallest.flashBytes, flashBudget(device));
  }
  return new BudgetError(`no sparse-update scheme of ${model} fits ${device.name} (arena budget ${budget} B); ${where}; the smallest, classifier only,`, smallest.arenaBytes, budget, contributors);
}

/** A binary max-heap by `compare`. */
class MaxHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}
  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (this.compare(a[i], a[parent]) <= 0) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const end = a.pop();
    if (a.length > 0 && end !== undefined) {
      a[0] = end;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let best = i;
        if (l < a.length && this.compare(a[l], a[best]) > 0) best = l;
        if (r < a.length && this.compare(a[r], a[best]) > 0) best = r;
        if (best === i) break;
        [a[i], a[best]] = [a[best], a[i]];
        i = best;
      }
    }
    return top;
  }
}
