// The transfer task shared by examples/transfer.ts, examples/ablation.ts and `sparrow plan
// --train auto`: the reference CNN pretrained in fp32 on digits 0-4 only, quantized to int8,
// then taught all ten digits (5-9 are new classes) on the device runtime.
//
// Data (our seeded MNIST split, targets/node/reference.ts): pretraining and calibration use
// the training digits 0-4; the fine-tuning stream is every training digit, 0-9 (the old
// classes stay in the stream so that learning 5-9 does not erase them), reshuffled (seeded)
// every epoch; accuracy is top-1 over the 10 outputs on the 2,000 held-out digits, also
// reported for the held-out 0-4 and 5-9 separately.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { DeviceProfile } from '../../src/compiler/devices.js';
import { cloneGraph, type Graph } from '../../src/compiler/graph.js';
import { estimateLatency } from '../../src/compiler/latency.js';
import { referenceCnn } from '../../src/compiler/models.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { loadGraph, saveGraph } from '../../src/compiler/serialize.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { evaluate, resolvedSettings, trainFp32, type TrainOptions } from '../../src/compiler/train_fp32.js';
import type { QModel } from '../../src/formats/qmodel.js';
import { Op } from '../../src/formats/schema.js';
import { filterClasses, take, type LabeledSet, type MnistSplit } from '../../src/host/datasets/mnist.js';
import { Random } from '../../src/host/random.js';
import type { Build } from '../../src/host/runtime.js';
import { Trainer, type TrainMemoryUse } from '../../src/host/trainer.js';
import { CALIBRATION_DIGITS, referenceData } from './reference.js';

export const OLD_DIGITS = [0, 1, 2, 3, 4];
export const NEW_DIGITS = [5, 6, 7, 8, 9];
export const PRETRAINED_FILE = new URL('../../models/reference-cnn-digits0-4.json', import.meta.url);
const INIT_SEED = 7;
const PRETRAIN: TrainOptions = { epochs: 8, batchSize: 32, optimizer: 'adam', learningRate: 0.02, schedule: 'cosine', seed: 11 };

/**
 * The sparse update of examples/transfer.ts (unless --search) and examples/ablation.ts: the
 * classifier, the biases of every layer, pw1 at half its output channels, dw2 and pw2 whole;
 * conv1's and dw1's filters and the other half of pw1 stay frozen in flash. Carry rounding
 * (docs/training-math.md) keeps sub-quantum steps instead of dithering them.
 */
export const TRANSFER_RECIPE: TrainRecipe = {
  biasLastK: 5,
  weights: [{ layer: 'pw1', ratio: 0.5 }, { layer: 'dw2', ratio: 1 }, { layer: 'pw2', ratio: 1 }],
  learningRate: { weight: 0.02, bias: 0.02 },
  rounding: 'carry',
  seed: 1,
};
/** The acceptance line for the planned train-step arena. */
export const SRAM_TARGET_BYTES = 64 * 1024;
/** Passes over the stream. */
export const TRANSFER_EPOCHS = 6;
/** The rate multiplier from one epoch to the next. */
export const TRANSFER_DECAY = 0.7;

export interface TransferData {
  /** Training digits 0-4 (pretraining and calibration). */
  pretrain: LabeledSet;
  /** Every training digit: the on-device stream. */
  stream: LabeledSet;
  test: LabeledSet;
}

export function transferData(split: MnistSplit = referenceData()): TransferData {
  return { pretrain: filterClasses(split.train, OLD_DIGITS), stream: split.train, test: split.test };
}

/** Trains the reference CNN (10 outputs) on digits 0-4 in fp32, seeded, and writes PRETRAINED_FILE. */
export function pretrainOldDigits(data: TransferData = transferData(), log: (line: string) => void = console.error): Graph {
  const graph = referenceCnn(INIT_SEED);
  const started = performance.now();
  const oldTest = filterClasses(data.test, OLD_DIGITS);
  const history = trainFp32(graph, data.pretrain, { ...PRETRAIN, test: oldTest, onEpoch: (r) => log(`pretraining epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, held-out 0-4 ${(100 * r.testAccuracy!).toFixed(2)} %`) });
  const meta = {
    description: 'reference-cnn (10 outputs) trained in fp32 on MNIST digits 0-4 only by examples/transfer-pretrain.ts, the starting point of examples/transfer.ts',
    seeds: { data: 1, init: INIT_SEED, shuffle: PRETRAIN.seed },
    data: { digits: OLD_DIGITS, train: data.pretrain.count, test: oldTest.count },
    training: { ...resolvedSettings(PRETRAIN), loss: 'softmax cross-entropy' },
    accuracy: { testDigits0to4: history[history.length - 1].testAccuracy },
    trainSeconds: +((performance.now() - started) / 1000).toFixed(1),
  };
  writeFileSync(PRETRAINED_FILE, JSON.stringify(saveGraph(graph, meta), null, 1) + '\n');
  return graph;
}

/** The cached pretrained graph (trained and cached first when missing: about 40 s). */
export function pretrainedGraph(data?: TransferData): Graph {
  if (!existsSync(PRETRAINED_FILE)) return pretrainOldDigits(data);
  return loadGraph(JSON.parse(readFileSync(PRETRAINED_FILE, 'utf8')));
}

/** PTQ calibrated on the first training digits 0-4 (the new classes are unknown at compile time). */
export function quantizePretrained(graph: Graph, data: TransferData): QModel {
  return quantizeGraph(graph, take(data.pretrain, CALIBRATION_DIGITS).images);
}

/** Top-1 accuracy over all held-out digits and over the old and new classes. */
export interface Accuracy {
  all: number;
  old: number;
  new: number;
}

export function accuracyOf(predictedCorrect: (set: LabeledSet) => number, test: LabeledSet): Accuracy {
  const part = (digits: number[]) => {
    const s = filterClasses(test, digits);
    return predictedCorrect(s) / s.count;
  };
  return { all: predictedCorrect(test) / test.count, old: part(OLD_DIGITS), new: part(NEW_DIGITS) };
}

/** `set` in a seeded random order (a copy). */
export function shuffled(set: LabeledSet, seed: number): LabeledSet {
  const order = new Random(seed).permutation(set.count);
  const size = set.images.length / set.count;
  const images = new Float32Array(set.images.length);
  const labels = new Uint8Array(set.count);
  order.forEach((k, i) => {
    images.set(set.images.subarray(k * size, (k + 1) * size), i * size);
    labels[i] = set.labels[k];
  });
  return { images, labels, count: set.count };
}

export interface DeviceRunOptions {
  device: DeviceProfile;
  build: Build | 'auto';
  epochs: number;
  /** The rate of epoch e is recipe rate x decay^e (Trainer.setRateScale). */
  decay: number;
  /** Called after each epoch with its mean loss and held-out accuracy. */
  onEpoch?: (epoch: number, loss: number, accuracy: Accuracy) => void;
  /** Called after each step. */
  onStep?: (step: number, loss: number) => void;
  /** Which seeded data order (stream shuffles) to train on; default 0. */
  order?: number;
}

export interface DeviceRun {
  build: Build;
  accuracy: Accuracy;
  losses: number[];
  memory: TrainMemoryUse;
  trained: QModel;
}

/**
 * Sparse-update fine-tuning on the device runtime: one Trainer for all epochs, its rates
 * multiplied by decay^epoch on the device (Trainer.setRateScale: the carry fractions and any
 * momentum carry over from one epoch to the next).
 */
export async function deviceFineTune(qmodel: QModel, recipe: TrainRecipe, data: TransferData, o: DeviceRunOptions): Promise<DeviceRun> {
  const trainer = await Trainer.create(qmodel, recipe, { device: o.device, build: o.build });
  let accuracy: Accuracy | undefined;
  const losses: number[] = [];
  let steps = 0;
  for (let e = 0; e < o.epochs; e++) {
    trainer.setRateScale(o.decay ** e);
    losses.push(trainer.trainEpoch(shuffled(data.stream, orderSeed(o.order, e)), { onStep: (_, loss) => o.onStep?.(++steps, loss) }));
    const results = await Promise.all([data.test, ...[OLD_DIGITS, NEW_DIGITS].map((d) => filterClasses(data.test, d))].map((s) => trainer.evaluate(s)));
    accuracy = { all: results[0].accuracy, old: results[1].accuracy, new: results[2].accuracy };
    o.onEpoch?.(e + 1, losses[e], accuracy);
  }
  return { build: trainer.build, accuracy: accuracy!, losses, memory: trainer.memory(), trained: trainer.exportQModel() };
}

/** The shuffle seed of epoch `epoch` in data order `order` (order 0: 100, 101, ...). */
function orderSeed(order = 0, epoch: number): number {
  return 100 + 1000 * order + epoch;
}

/** Full fine-tuning of a copy of `graph` in fp32 on the host, with the device run's stream, rates and schedule. */
export function fp32FineTune(graph: Graph, data: TransferData, o: { epochs: number; learningRate: number; decay: number; order?: number }): Accuracy {
  const g = cloneGraph(graph);
  for (let e = 0; e < o.epochs; e++) {
    trainFp32(g, shuffled(data.stream, orderSeed(o.order, e)), { epochs: 1, batchSize: 1, optimizer: 'sgd', momentum: 0, learningRate: o.learningRate * o.decay ** e, seed: orderSeed(o.order, e) + 100 });
  }
  const correct = (s: LabeledSet) => Math.round(evaluate(g, s).accuracy * s.count);
  return accuracyOf(correct, data.test);
}

/**
 * The scheme search's proxy runs (scheme_search.ts): the first 1,500 samples of the stream to
 * train, its last 1,000 to validate; the held-out test digits stay unseen.
 */
export function searchSplit(data: TransferData): { train: LabeledSet; validation: LabeledSet } {
  const size = data.stream.images.length / data.stream.count;
  const from = data.stream.count - 1000;
  return {
    train: take(data.stream, 1500),
    validation: { images: data.stream.images.subarray(from * size), labels: data.stream.labels.subarray(from), count: data.stream.count - from },
  };
}

export interface StepLatency {
  /** The int8 forward ops (src/compiler/latency.ts). */
  forwardUs: number;
  /** Masks, loss, backward-input and update ops: fp32 MACs priced at the device's MAC rate of their kernel family. */
  backwardUs: number;
  totalUs: number;
  backwardMacs: number;
}

/** Estimated time of one train step on `device`, from the train-step container's ops. */
export function estimateStepLatency(qmodel: QModel, recipe: TrainRecipe, device: DeviceProfile): StepLatency {
  const { perOp } = estimateLatency(lowerTrainStep(qmodel, recipe).container, device);
  const backward = perOp.filter((o) => o.op >= Op.RELU_MASK); // train-step op codes follow the inference ones
  const sum = (ops: typeof perOp, f: (o: (typeof perOp)[number]) => number) => ops.reduce((s, o) => s + f(o), 0);
  const forwardUs = sum(perOp, (o) => o.us) - sum(backward, (o) => o.us);
  const backwardUs = sum(backward, (o) => o.us);
  return { forwardUs, backwardUs, totalUs: forwardUs + backwardUs, backwardMacs: sum(backward, (o) => o.macs) };
}

