// The task the end-to-end training tests share: the trained reference CNN
// (models/reference-cnn.json) after PTQ on MNIST, and a new task that relabels every digit d
// as (d + 1) mod 10, so the classifier has something to learn.
import { readFileSync } from 'node:fs';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { loadGraph } from '../../src/compiler/serialize.js';
import type { QModel } from '../../src/formats/qmodel.js';
import { loadMnist, type LabeledSet } from '../../src/host/datasets/mnist.js';

export const PIXELS = 784;

export interface ReferenceTask {
  qmodel: QModel;
  train: LabeledSet;
  test: LabeledSet;
  sample(i: number): Float32Array;
  labelOf(i: number): number;
}

let cached: ReferenceTask | undefined;

export function referenceCnnTask(): ReferenceTask {
  if (cached) return cached;
  const data = loadMnist({ seed: 1 });
  const graph = loadGraph(JSON.parse(readFileSync(new URL('../../models/reference-cnn.json', import.meta.url), 'utf8')));
  const qmodel = quantizeGraph(graph, data.train.images.subarray(0, PIXELS * 256));
  const shifted = (set: LabeledSet): LabeledSet => ({ ...set, labels: set.labels.map((l) => (l + 1) % 10) });
  const train = shifted(data.train);
  cached = {
    qmodel, train, test: shifted(data.test),
    sample: (i) => train.images.subarray(i * PIXELS, (i + 1) * PIXELS),
    labelOf: (i) => train.labels[i],
  };
  return cached;
}
