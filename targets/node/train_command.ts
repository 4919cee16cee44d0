// `sparrow train`: on-device training of the reference CNN (int8, models/reference-cnn.json
// after PTQ) on our MNIST split, run by the training executor inside a device's budget.
// Progress bar on stderr; per-epoch loss and held-out accuracy, then the memory planned vs
// measured, on stdout; optionally the loss/accuracy curve (SVG or HTML) and the trained model
// as an inference container.
//
// Also `sparrow plan --train <auto|recipe.json>` (planTrainCommand): the scheme search's choice
// under the device's budget, or one recipe's train-step memory.
import { readFileSync, writeFileSync } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import { cliTable } from './table.js';
import type { Command } from 'commander';
import { getDevice, sramBudget, type DeviceProfile } from '../../src/compiler/devices.js';
import { raiseContainer } from '../../src/compiler/raise.js';
import { parseRecipe, ROUNDINGS, WEIGHT_RATIOS, type TrainRecipe } from '../../src/compiler/train/recipe.js';
import { describeScheme, measureContributions, searchScheme, trainStepMemory, type Contributions, type SchemeChoice } from '../../src/compiler/train/scheme_search.js';
import { ValueError } from '../../src/formats/errors.js';
import { parseModelJson } from '../../src/formats/model_json.js';
import type { QModel } from '../../src/formats/qmodel.js';
import { filterClasses, take } from '../../src/host/datasets/mnist.js';
import { Model } from '../../src/host/model.js';
import type { Build } from '../../src/host/runtime.js';
import { Trainer, type TrainMemoryUse } from '../../src/host/trainer.js';
import { curveHtml, curveSvg, movingAverage } from './curve_svg.js';
import { referenceData, referenceQModel } from './reference.js';
import { pretrainedGraph, quantizePretrained, searchSplit, shuffled, transferData } from './transfer_task.js';

/**
 * The default sparse update of the reference CNN: the classifier, the biases of every layer
 * but conv1, pw2's weights whole and pw1's at half of its output channels (rates for a model
 * that is already trained: small, constant).
 */
export const DEFAULT_TRAIN_RECIPE: TrainRecipe = {
  biasLastK: 4,
  weights: [{ layer: 'pw1', ratio: 0.5 }, { layer: 'pw2', ratio: 1 }],
  learningRate: { weight: 0.002, bias: 0.002 },
  epochs: 1,
  rounding: 'stochastic',
  seed: 1,
};

const DIGITS: Record<string, number[]> = { '0-4': [0, 1, 2, 3, 4], '5-9': [5, 6, 7, 8, 9], all: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] };

/** Options as commander parses them (strings). */
export interface TrainCommandOptions {
  recipe?: string;
  device?: string;
  build?: Build | 'auto';
  /** Overrides recipe.epochs. */
  epochs?: string;
  /** Overrides recipe.rounding: stochastic, nearest or carry. */
  rounding?: string;
  digits?: string;
  /** Train on the first N digits of the selection only. */
  trainDigits?: string;
  curve?: string;
  export?: string;
  /** Default true; false hides the progress bar (tests). */
  progress?: boolean;
}

export interface EpochSummary {
  epoch: number;
  meanLoss: number;
  accuracy: number;
}

export interface TrainSummary {
  recipe: TrainRecipe;
  digits: string;
  trainCount: number;
  testCount: number;
  /** Held-out accuracy before training. */
  initialAccuracy: number;
  epochs: EpochSummary[];
  memory: TrainMemoryUse;
  build: Build;
}

/** Adds `train` with its options to a commander program. */
export function defineTrainCommand(program: Command): Command {
  return program
    .command('train')
    .description('train the reference CNN (int8) on MNIST on the device runtime with a sparse update')
    .option('-r, --recipe <recipe.json>', 'training recipe (docs/training.md); default: a sparse update of the CNN')
    .option('-d, --device <name>', 'device profile', 'stm32f746')
    .option('-b, --build <build>', 'executor build: auto, mvp or simd', 'auto')
    .option('-e, --epochs <n>', 'passes over the training digits (default: the recipe\'s)')
    .option('--rounding <mode>', 'rounding of the int8 weight updates: stochastic, nearest or carry (default: the recipe\'s)')
    .option('--digits <which>', 'train and test on digits 0-4, 5-9 or all', 'all')
    .option('--train-digits <n>', 'train on the first N digits of the selection')
    .option('--curve <file>', 'write the loss/accuracy curve (.svg or .html)')
    .option('--export <file.spw>', 'write the trained model as an inference container')
    .option('--no-progress', 'hide the progress bar')
    .action(async (o: TrainCommandOptions) => {
      await trainCommand(o);
    });
}

export async function trainCommand(o: TrainCommandOptions): Promise<TrainSummary> {
  const given = o.recipe ? parseRecipe(JSON.parse(readFileSync(o.recipe, 'utf8'))) : DEFAULT_TRAIN_RECIPE;
  const recipe = o.rounding === undefined ? given : parseRecipe({ ...given, rounding: choice('--rounding', o.rounding, ROUNDINGS) });
  const device = getDevice(o.device ?? 'stm32f746');
  const build = choice('--build', o.build ?? 'auto', ['auto', 'mvp', 'simd'] as const);
  const digits = choice('--digits', o.digits ?? 'all', Object.keys(DIGITS));
  const epochs = o.epochs !== undefined ? integer('--epochs', o.epochs, 1) : recipe.epochs ?? 1;
  if (o.curve && !/\.(svg|html?)$/i.test(o.curve)) throw new ValueError(`--curve must name a .svg or .html file, got "${o.curve}"`);
  const data = referenceData();
  const selected = filterClasses(data.train, DIGITS[digits]);
  const train = o.trainDigits ? take(selected, integer('--train-digits', o.trainDigits, 1)) : selected;
  const test = filterClasses(data.test, DIGITS[digits]);
  const { qmodel } = referenceQModel('reference-cnn', data);

  const trainer = await Trainer.create(qmodel, recipe, { device, build });
  const initialAccuracy = (await trainer.evaluate(test)).accuracy;
  console.log(`reference-cnn int8 on ${device.name} (${trainer.build} build): ${describeScheme({ biasLastK: recipe.biasLastK ?? 0, weights: recipe.weights ?? [] })}; digits ${digits}: ${train.count} to train on, ${test.count} held out`);
  console.log(`before training: held-out accuracy ${pct(initialAccuracy)}`);
  const bar = o.progress === false ? undefined
    : new SingleBar({ format: 'training [{bar}] {value}/{total} steps | epoch {epoch} | loss {loss}', stream: process.stderr }, Presets.shades_classic);
  const losses: number[] = [];
  const summaries: EpochSummary[] = [];
  bar?.start(epochs * train.count, 0, { epoch: 1, loss: '-' });
  try {
    for (let e = 1; e <= epochs; e++) {
      const meanLoss = trainer.trainEpoch(shuffled(train, (recipe.seed ?? 0) * 1000 + e), {
        onStep: (_, loss) => {
          losses.push(loss);
          if (losses.length % 50 === 0) bar?.update(losses.length, { epoch: e, loss: loss.toFixed(3) });
        },
      });
      bar?.update(losses.length, { epoch: e });
      const accuracy = (await trainer.evaluate(test)).accuracy;
      summaries.push({ epoch: e, meanLoss, accuracy });
      bar?.stop();
      console.log(`epoch ${e}/${epochs}: mean loss ${meanLoss.toFixed(4)}, held-out accuracy ${pct(accuracy)}`);
      if (e < epochs) bar?.start(epochs * train.count, losses.length, { epoch: e + 1, loss: '-' });
    }
  } finally {
    bar?.stop();
  }
  const memory = trainer.memory();
  printMemory(memory);
  if (o.curve) {
    const curve = {
      title: `reference-cnn int8 on ${device.name}, digits ${digits}`,
      loss: movingAverage(losses, Math.max(1, Math.round(train.count / 40))),
      accuracy: [[0, initialAccuracy] as [number, number], ...summaries.map((s): [number, number] => [s.epoch * train.count, s.accuracy])],
    };
    writeFileSync(o.curve, /\.svg$/i.test(o.curve) ? curveSvg(curve) : curveHtml(curve));
    console.log(`wrote ${o.curve}`);
  }
  if (o.export) {
    const model = trainer.export();
    writeFileSync(o.export, model.bytes);
    console.log(`wrote ${o.export}: ${model.bytes.length} B inference container with the trained weights`);
  }
  return { recipe, digits, trainCount: train.count, testCount: test.count, initialAccuracy, epochs: summaries, memory, build: trainer.build };
}

function printMemory(m: TrainMemoryUse): void {
  const t = cliTable({ head: ['train step memory', 'bytes'] });
  t.push(['arena planned (compiler)', m.plannedBytes], ['highest byte planned', m.plannedHighWaterBytes], ['highest byte measured (device)', m.highWaterBytes], [`budget on ${m.device}`, m.budgetBytes], ['container (flash)', m.flashBytes]);
  for (const [category, bytes] of Object.entries(m.byCategory)) t.push([`  measured peak: ${category}`, bytes]);
  console.log(t.toString());
  console.log(m.highWaterBytes === m.plannedHighWaterBytes ? 'measured high-water mark = planned' : `** measured ${m.highWaterBytes} B differs from planned ${m.plannedHighWaterBytes} B **`);
}

export interface PlanTrainOptions {
  device: string;
  /** 'auto' or a recipe file. */
  train: string;
  json?: boolean;
  /** Samples per proxy run of the scheme search (default 1,500). */
  searchSteps?: number;
}

/**
 * `sparrow plan [model] --train auto|recipe.json`. The model is a JSON model description or a
 * container; without one, the transfer task's model (targets/node/transfer_task.ts). `auto`
 * measures contributions on the MNIST stream and prints the scheme search's choice.
 */
export function planTrainCommand(input: string | undefined, o: PlanTrainOptions): SchemeChoice {
  const device = getDevice(o.device);
  const data = transferData();
  const qmodel = input ? loadQModel(input) : quantizePretrained(pretrainedGraph(data), data);
  if (o.train !== 'auto') {
    const recipe = parseRecipe(JSON.parse(readFileSync(o.train, 'utf8')));
    const memory = trainStepMemory(qmodel, { device })(recipe);
    const scheme = { biasLastK: recipe.biasLastK ?? 0, weights: recipe.weights ?? [] };
    const result: SchemeChoice = { scheme, recipe, label: describeScheme(scheme), expectedGain: NaN, memory, budgetBytes: sramBudget(device), evaluated: 1, exhaustive: true };
    printChoice(result, device, o.json);
    return result;
  }
  const split = searchSplit(data);
  const contributions = measureContributions(qmodel, {
    train: take(split.train, o.searchSteps ?? split.train.count), validation: split.validation,
    learningRate: 0.005, onRun: o.json ? undefined : (label, i, n) => process.stderr.write(`\rscheme search: proxy run ${i + 1}/${n} (${label})          `),
  });
  if (!o.json) process.stderr.write('\n');
  const result = searchScheme(qmodel, contributions, { device });
  printChoice(result, device, o.json, contributions);
  return result;
}

function loadQModel(path: string): QModel {
  const bytes = readFileSync(path);
  if (path.endsWith('.json')) return parseModelJson(bytes.toString('utf8'));
  return raiseContainer(Model.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).container);
}

function printChoice(c: SchemeChoice, device: DeviceProfile, json?: boolean, contributions?: Contributions): void {
  const { liveAtPeak: _, ...memory } = c.memory;
  if (json) {
    console.log(JSON.stringify({ device: device.name, budgetBytes: c.budgetBytes, scheme: c.label, recipe: c.recipe, expectedGain: c.expectedGain, memory, evaluated: c.evaluated, contributions }, null, 2));
    return;
  }
  if (contributions) {
    console.log(`contributions (${contributions.proxy}); classifier only ${pct(contributions.baseline.classifierOnly)}, bias-only ${pct(contributions.baseline.biasOnly)}`);
    const t = cliTable({ head: ['layer', 'bias gain (biases down to it)', ...WEIGHT_RATIOS.map((r) => `weights at ${r}`)] });
    const n = contributions.layers.length;
    contributions.layers.forEach((layer, i) => t.push([layer, points(contributions.biasGain[n - i]), ...WEIGHT_RATIOS.map((r) => points(contributions.weightGain[layer]?.[r]))]));
    console.log(t.toString());
  }
  const t = cliTable();
  t.push({ scheme: c.label }, { 'expected gain': Number.isNaN(c.expectedGain) ? '-' : `${points(c.expectedGain)} points over classifier only` },
    { 'train-step arena': `${c.memory.arenaBytes} B of ${c.budgetBytes} B (${device.name})${c.memory.arenaBytes > c.budgetBytes ? '  ** OVER BUDGET **' : ''}` },
    { 'flash constants': `${c.memory.flashBytes} B` }, { 'schemes planned': String(c.evaluated) });
  console.log(t.toString());
  console.log(`recipe: ${JSON.stringify(c.recipe)}`);
}

function integer(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ValueError(`${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function choice<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ValueError(`${flag} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
const points = (x: number | undefined): string => (x === undefined ? '-' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`);
