// The MNIST loader: sizes, stratified test split, value ranges, disjoint seeded splits,
// determinism, and class filtering.

import { describe, expect, it } from 'vitest';
import { filterClasses, loadMnist, MNIST_PIXELS, take } from '../src/host/datasets/mnist.js';

/** A 32-bit FNV-1a hash of one image's float bits: equal images hash equal. */
function hashImage(images: Float32Array, i: number): number {
  const bits = new Uint32Array(images.buffer, images.byteOffset + i * MNIST_PIXELS * 4, MNIST_PIXELS);
  let h = 0x811c9dc5;
  for (const b of bits) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

const classCounts = (labels: Uint8Array): number[] => {
  const c = new Array<number>(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
};

describe('loadMnist', () => {
  const a = loadMnist({ seed: 1 });

  it('splits the 10,000 package digits into 8,000 train and 2,000 test, 200 test digits per class', () => {
    expect(a.train.count + a.test.count).toBe(10_000);
    expect(a.test.count).toBe(2000);
    expect(classCounts(a.test.labels)).toEqual(new Array(10).fill(200));
    expect(a.train.images.length).toBe(a.train.count * MNIST_PIXELS);
    expect(a.test.images.length).toBe(a.test.count * MNIST_PIXELS);
    expect(Math.min(...classCounts(a.train.labels))).toBeGreaterThan(600);
  });

  it('holds pixel values in [0, 1] with real ink in every image', () => {
    for (const set of [a.train, a.test]) {
      let min = Infinity;
      let max = -Infinity;
      for (const v of set.images) { if (v < min) min = v; if (v > max) max = v; }
      expect([min, max]).toEqual([0, 1]);
      for (let i = 0; i < set.count; i += 97) {
        const ink = set.images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS).reduce((s, v) => s + v, 0);
        expect(ink, `image ${i} label ${set.labels[i]}`).toBeGreaterThan(10);
      }
    }
  });

  it('keeps train and test disjoint (no image in both)', () => {
    const testHashes = new Set(Array.from({ length: a.test.count }, (_, i) => hashImage(a.test.images, i)));
    const shared: number[] = [];
    for (let i = 0; i < a.train.count; i++) if (testHashes.has(hashImage(a.train.images, i))) shared.push(i);
    expect(shared, 'training images also in the test set').toEqual([]);
  });

  it('is deterministic per seed, different across seeds, and shuffles the classes', () => {
    const again = loadMnist({ seed: 1 });
    expect(again.test.labels).toEqual(a.test.labels);
    expect(hashImage(again.train.images, 1234)).toBe(hashImage(a.train.images, 1234));
    const other = loadMnist({ seed: 2 });
    expect(other.test.labels).not.toEqual(a.test.labels);
    // Shuffled: the first 100 training labels are not all one class.
    expect(new Set(a.train.labels.subarray(0, 100)).size).toBeGreaterThan(5);
  });

  it('honours testCount and rejects counts that are not a multiple of 10', () => {
    const small = loadMnist({ seed: 3, testCount: 500 });
    expect(small.test.count).toBe(500);
    expect(classCounts(small.test.labels)).toEqual(new Array(10).fill(50));
    expect(() => loadMnist({ seed: 3, testCount: 505 })).toThrow(/multiple of 10/);
  });
});

describe('filterClasses and take', () => {
  const { test } = loadMnist({ seed: 4 });

  it('keeps only the chosen classes, in order, optionally relabelled', () => {
    const f = filterClasses(test, [7, 2]);
    expect(f.count).toBe(400);
    expect(new Set(f.labels)).toEqual(new Set([2, 7]));
    const firstKept = Array.from(test.labels).findIndex((l) => l === 7 || l === 2);
    expect(hashImage(f.images, 0)).toBe(hashImage(test.images, firstKept));
    const r = filterClasses(test, [7, 2], true);
    expect(new Set(r.labels)).toEqual(new Set([0, 1]));
    expect(r.labels[f.labels.indexOf(7)]).toBe(0);
    expect(filterClasses(test, []).count).toBe(0);
  });

  it('take returns the first samples as views', () => {
    const t = take(test, 10);
    expect(t.count).toBe(10);
    expect(t.images.length).toBe(10 * MNIST_PIXELS);
    expect(t.labels).toEqual(test.labels.subarray(0, 10));
    expect(take(test, 1e9).count).toBe(test.count);
  });
});
