// `sparrow prune`: gradual magnitude pruning of a fp32 graph (a models/*.json graph file, or
// the reference CNN by default) with fine-tuning on our MNIST split. Prints a progress bar
// while fine-tuning (stderr), then the per-layer table before and after with held-out
// accuracies (stdout), and writes the pruned graph file. Method and definitions: docs/pruning.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import { cliTable } from './table.js';
import type { Command } from 'commander';
import { getDevice } from '../../src/compiler/devices.js';
import type { Graph } from '../../src/compiler/graph.js';
import { GROUP_SIZES, prunableLayerNames, pruneGraph, type Allocation, type GroupSize, type PrunePattern, type PruneResult } from '../../src/compiler/prune.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { loadGraph, saveGraph } from '../../src/compiler/serialize.js';
import type { Dataset } from '../../src/compiler/train_fp32.js';
import { ValueError } from '../../src/formats/errors.js';
import { MNIST_PIXELS, take } from '../../src/host/datasets/mnist.js';
import { Model } from '../../src/host/model.js';
import type { Build } from '../../src/host/runtime.js';
import { Session } from '../../src/host/session.js';
import { CALIBRATION_DIGITS, referenceData } from './reference.js';

/** Options as commander parses them (strings), see definePruneCommand. */
export interface PruneCommandOptions {
  sparsity?: string;
  group?: string;
  pattern?: string;
  /** Comma-separated node names. */
  layers?: string;
  allocation?: string;
  epochs?: string;
  /** Steps over which sparsity ramps (default: 3/4 of the fine-tuning steps). */
  steps?: string;
  updateEvery?: string;
  /** Fine-tune on the first N training digits (default all 8,000). */
  trainDigits?: string;
  lr?: string;
  seed?: string;
  /** Distillation temperature (distil from the unpruned graph when given). */
  distill?: string;
  /** Weight of the distillation term (default 1). */
  distillWeight?: string;
  /** Comma-separated teacher graphs (files or reference names; logits averaged); default the unpruned graph. */
  teacher?: string;
  /** Final epochs fine-tuned quantization-aware (default 0). */
  qatEpochs?: string;
  /** Also measure int8 accuracy on the device runtime (PTQ, mvp/simd executor). */
  int8?: boolean;
  output?: string;
  /** Default true; false hides the progress bar (tests). */
  progress?: boolean;
}

export interface PruneSummary {
  model: string;
  result: PruneResult;
  fp32: { before: number; after: number };
  int8?: { before: number; after: number };
  output?: string;
}

/** Adds `prune [graph]` with its options to a commander program. */
export function definePruneCommand(program: Command): Command {
  return program
    .command('prune')
    .description('prune 1x1 convolutions and fully connected layers (groups or 2:4) with fine-tuning on MNIST')
    .argument('[graph]', 'fp32 graph file, or the name of one in models/ (reference-cnn, reference-mlp, ...)', 'reference-cnn')
    .option('-s, --sparsity <fraction>', 'final fraction of the pruned layers\' weights set to 0', '0.7')
    .option('-g, --group <g>', `output channels per block: ${GROUP_SIZES.join(', ')}`, '4')
    .option('-p, --pattern <pattern>', 'group or 2:4', 'group')
    .option('-l, --layers <names>', 'comma-separated layers to prune (default: every 1x1 conv after the first conv, every fc)')
    .option('-a, --allocation <how>', 'split of the sparsity over layers: uniform, global or sensitivity', 'uniform')
    .option('-e, --epochs <n>', 'fine-tuning epochs (0: prune at once, no fine-tuning)', '4')
    .option('--steps <n>', 'optimizer steps over which sparsity ramps (default 3/4 of all steps)')
    .option('--update-every <n>', 'steps between mask updates (default ramp / 16)')
    .option('--train-digits <n>', 'fine-tune on the first N of the 8,000 training digits')
    .option('--lr <rate>', 'Adam learning rate, decayed with a cosine (default: half the rate the graph file records in meta.training, else 0.002)')
    .option('--distill <T>', 'distil from the unpruned graph at softmax temperature T')
    .option('--distill-weight <w>', 'weight of the distillation term', '1')
    .option('--teacher <graphs>', 'distil from these graph files or reference names instead (comma-separated: logits averaged)')
    .option('--qat-epochs <n>', 'last n fine-tuning epochs on int8-rounded weights and activations', '0')
    .option('--seed <n>', 'seed of the fine-tuning shuffle', '1')
    .option('--int8', 'also measure int8 accuracy on the device runtime')
    .option('-o, --output <file.json>', 'write the pruned fp32 graph here')
    .option('--no-progress', 'hide the progress bar')
    .action(async (input: string, o: PruneCommandOptions) => {
      await pruneCommand(input, o);
    });
}

export async function pruneCommand(input: string | undefined, o: PruneCommandOptions): Promise<PruneSummary> {
  const { graph, trainedLearningRate } = loadInput(input ?? 'reference-cnn');
  const data = referenceData();
  const train = o.trainDigits ? take(data.train, integer('--train-digits', o.trainDigits, 1)) : data.train;
  const pattern = choice('--pattern', o.pattern ?? 'group', ['group', '2:4'] as const) as PrunePattern;
  const group = Number(choice('--group', o.group ?? '4', GROUP_SIZES.map(String))) as GroupSize;
  const epochs = integer('--epochs', o.epochs ?? '4', 0);
  const layers = o.layers?.split(',').map((s) => s.trim()).filter(Boolean);
  const calibration = take(data.train, CALIBRATION_DIGITS).images;
  const distillation = o.distill ? { temperature: positive('--distill', o.distill), weight: nonNegative('--distill-weight', o.distillWeight ?? '1') } : undefined;
  const teacherNames = o.teacher?.split(',').map((s) => s.trim()).filter(Boolean);
  if (teacherNames && !distillation) throw new ValueError('--teacher needs --distill <T>');
  const teacher = teacherNames?.map((name) => loadInput(name).graph);
  const quantizationAwareEpochs = integer('--qat-epochs', o.qatEpochs ?? '0', 0);
  const before = zeroFractions(graph, layers ?? prunableLayerNames(graph));

  const bar = o.progress === false ? undefined
    : new SingleBar({ format: 'fine-tuning [{bar}] {value}/{total} steps | sparsity {sparsity}', stream: process.stderr }, Presets.shades_classic);
  let result: PruneResult;
  try {
    result = pruneGraph(graph, { train, test: data.test }, {
      pattern, group, layers, epochs,
      sparsity: o.sparsity === undefined || pattern === '2:4' ? (pattern === '2:4' ? 0.5 : 0.7) : fraction('--sparsity', o.sparsity),
      allocation: choice('--allocation', o.allocation ?? 'uniform', ['uniform', 'global', 'sensitivity'] as const) as Allocation,
      rampSteps: o.steps ? integer('--steps', o.steps, 1) : undefined,
      updateEvery: o.updateEvery ? integer('--update-every', o.updateEvery, 1) : undefined,
      training: { learningRate: o.lr ? positive('--lr', o.lr) : fineTuningRate(trainedLearningRate) },
      distillation, teacher, quantizationAwareEpochs,
      seed: integer('--seed', o.seed ?? '1', 0),
      onStep: ({ step, totalSteps, sparsity }) => {
        if (step === 1) bar?.start(totalSteps, 0, { sparsity: '' });
        bar?.update(step, { sparsity: `${(100 * sparsity).toFixed(1)}%` });
      },
    });
  } finally {
    bar?.stop();
  }
  const history = result.history;
  const fp32 = { before: history[0].testAccuracy!, after: history[history.length - 1].testAccuracy! };
  const int8 = o.int8
    ? { before: await int8Accuracy(graph, calibration, data.test), after: await int8Accuracy(result.graph, calibration, data.test) }
    : undefined;

  const table = cliTable({ head: ['layer', 'weight shape', 'pattern', 'sparsity before', 'sparsity after', 'weights kept', 'note'] });
  result.layers.forEach((l, i) => table.push([
    l.layer, `[${l.shape}]`, l.pattern, percent(before[i]), percent(l.sparsity), `${l.kept} / ${l.weights}`, l.note ?? '',
  ]));
  const acc = cliTable({ head: ['held-out accuracy (2,000 digits)', 'before', 'after', 'change (points)'] });
  acc.push(['fp32', percent(fp32.before), percent(fp32.after), points(fp32.after - fp32.before)]);
  if (int8) acc.push(['int8 (device runtime)', percent(int8.before), percent(int8.after), points(int8.after - int8.before)]);
  console.log(table.toString());
  console.log(acc.toString());
  console.log(`pruned layers: ${percent(result.sparsity)} of their weights are 0; ${epochs} fine-tuning epoch(s) on ${train.count} digits`);

  if (o.output) {
    const meta = {
      description: `${graph.name} pruned by sparrow prune`,
      pruning: { pattern, group, allocation: o.allocation ?? 'uniform', sparsity: result.sparsity, epochs, trainDigits: train.count, seed: o.seed ?? '1',
        ...(distillation ? { distillation: { ...distillation, teacher: teacherNames ?? ['the unpruned graph'] } } : {}), quantizationAwareEpochs, layers: result.layers },
      accuracy: { fp32, ...(int8 ? { int8 } : {}) },
      history: history.map((h) => ({ epoch: h.epoch, sparsity: +h.sparsity.toFixed(4), test: h.testAccuracy })),
    };
    writeFileSync(o.output, JSON.stringify(saveGraph(result.graph, meta), null, 1) + '\n');
    console.log(`wrote ${o.output}`);
  }
  return { model: graph.name, result, fp32, int8, output: o.output };
}

/**
 * Top-1 accuracy of the int8 model of `graph` (PTQ calibrated on `calibration`, compiled for
 * stm32f746) run sample by sample on the device runtime over `test`.
 */
export async function int8Accuracy(graph: Graph, calibration: Float32Array, test: Dataset, build?: Build): Promise<number> {
  const model = Model.compile(quantizeGraph(graph, calibration), { device: getDevice('stm32f746') });
  const session = await Session.create(model, { build: build ?? 'auto' });
  let correct = 0;
  for (let i = 0; i < test.count; i++) {
    const [out] = session.run(test.images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS));
    let best = 0;
    for (let c = 1; c < out.length; c++) if (out[c] > out[best]) best = c;
    if (best === test.labels[i]) correct++;
  }
  return correct / test.count;
}

/** A graph file (or a model of models/ by name) and the learning rate its meta says it was trained with. */
function loadInput(input: string): { graph: Graph; trainedLearningRate?: number } {
  const stored = new URL(`../../models/${input}.json`, import.meta.url);
  const path = /^[\w-]+$/.test(input) && existsSync(stored) ? stored : input;
  const json = JSON.parse(readFileSync(path, 'utf8')) as { meta?: { training?: { learningRate?: unknown } } };
  const lr = json.meta?.training?.learningRate;
  return { graph: loadGraph(json), trainedLearningRate: typeof lr === 'number' && lr > 0 ? lr : undefined };
}

/** Fine-tuning rate: half the rate the graph was trained with (it starts from trained weights), else 2e-3. */
export function fineTuningRate(trainedLearningRate?: number): number {
  return trainedLearningRate ? trainedLearningRate / 2 : 2e-3;
}

/** Fraction of each named layer's weights that are already 0 (before pruning). */
function zeroFractions(graph: Graph, names: string[]): number[] {
  return names.map((name) => {
    const node = graph.nodes.find((n) => n.name === name);
    const w = node && 'weight' in node ? node.weight.data : new Float32Array(0);
    return w.length ? w.filter((v) => v === 0).length / w.length : 0;
  });
}

function integer(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ValueError(`${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function fraction(flag: string, v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new ValueError(`${flag} must be a fraction in [0, 1), got "${v}"`);
  return n;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new ValueError(`${flag} must be a positive number, got "${v}"`);
  return n;
}

function nonNegative(flag: string, v: string): number {
  const n = Number(v);
  if (!(n >= 0)) throw new ValueError(`${flag} must be a number >= 0, got "${v}"`);
  return n;
}

function choice<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ValueError(`${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

const percent = (x: number): string => `${(100 * x).toFixed(2)} %`;
const points = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
