// The built-in default: the reference models (fp32 weights committed in models/), MNIST with
// our seeded split, and their int8 versions quantized with calibration digits.
import { readFileSync } from 'node:fs';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { loadGraph } from '../../src/compiler/serialize.js';
import type { Graph } from '../../src/compiler/graph.js';
import type { QModel } from '../../src/formats/qmodel.js';
import { loadMnist, take, type MnistSplit } from '../../src/host/datasets/mnist.js';

export type ReferenceName = 'reference-cnn' | 'reference-mlp';

/** The split every run and every test sees: 2,000 held-out digits (200 per class), seed 1. */
export const MNIST_SEED = 1;
export const TEST_DIGITS = 2000;
/** Training digits used to calibrate activation ranges. */
export const CALIBRATION_DIGITS = 500;

export function referenceGraph(name: ReferenceName): Graph {
  return loadGraph(JSON.parse(readFileSync(new URL(`../../models/${name}.json`, import.meta.url), 'utf8')));
}

export function referenceData(): MnistSplit {
  return loadMnist({ seed: MNIST_SEED, testCount: TEST_DIGITS });
}

/** The int8 model: post-training quantization calibrated on the first training digits. */
export function referenceQModel(name: ReferenceName, data: MnistSplit = referenceData()): { graph: Graph; qmodel: QModel } {
  const graph = referenceGraph(name);
  const calibration = take(data.train, CALIBRATION_DIGITS);
  return { graph, qmodel: quantizeGraph(graph, calibration.images) };
}
