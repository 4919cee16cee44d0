// The fp32 trainer (Adam, SGD with momentum, determinism), graph files (round trip,
// validation) and the committed reference artifacts (they load and reproduce the accuracy
// they record).

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../src/compiler/builder.js';
import { predict } from '../src/compiler/engine.js';
import { parameterCount, parameters, type Graph } from '../src/compiler/graph.js';
import { referenceCnn, referenceMlp } from '../src/compiler/models.js';
import { loadGraph, saveGraph } from '../src/compiler/serialize.js';
import { evaluate, trainFp32, type Dataset } from '../src/compiler/train_fp32.js';
import { FormatError, ShapeError } from '../src/formats/errors.js';
import { loadMnist, take } from '../src/host/datasets/mnist.js';
import { Random } from '../src/host/random.js';

/** Four Gaussian blobs in 2-D (std 0.5, centres at (+-2, +-2)), labelled by quadrant. */
function blobs(count: number, seed: number): Dataset {
  const rng = new Random(seed);
  const images = new Float32Array(count * 2);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = rng.int(0, 3);
    images[2 * i] = (c & 1 ? 2 : -2) + 0.5 * rng.normal();
    images[2 * i + 1] = (c & 2 ? 2 : -2) + 0.5 * rng.normal();
    labels[i] = c;
  }
  return { images, labels, count };
}

function smallMlp(seed: number): Graph {
  const b = new ModelBuilder('blobs', [2]);
  return b.build(b.fullyConnected(b.fullyConnected(b.input(), { units: 16, activation: 'relu' }), { units: 4 }), new Random(seed));
}

describe('trainFp32', () => {
  const train = blobs(800, 1);
  const test = blobs(400, 2);

  it('Adam and SGD+momentum both learn a separable task (>= 97% held out)', () => {
    for (const optimizer of ['adam', 'sgd'] as const) {
      const graph = smallMlp(3);
      const before = evaluate(graph, test);
      const history = trainFp32(graph, train, { epochs: 5, optimizer, learningRate: optimizer === 'adam' ? 0.01 : 0.05, seed: 4, test });
      const after = history[history.length - 1];
      expect(after.testAccuracy!, `${optimizer}: ${JSON.stringify(history)}`).toBeGreaterThanOrEqual(0.97);
      expect(after.loss, optimizer).toBeLessThan(history[0].loss);
      expect(after.testLoss!, optimizer).toBeLessThan(before.loss);
    }
  });

  it('is deterministic: same seeds give the same weights; another shuffle seed does not', () => {
    const run = (shuffle: number): Graph => {
      const g = smallMlp(5);
      trainFp32(g, train, { epochs: 2, batchSize: 16, schedule: 'cosine', seed: shuffle });
      return g;
    };
    const [a, b, c] = [run(6), run(6), run(7)];
    parameters(a).forEach((p, i) => expect(p.data, p.name).toEqual(parameters(b)[i].data));
    expect(parameters(a)[0].data).not.toEqual(parameters(c)[0].data);
  });

  it('trains the reference MLP on 1,000 MNIST digits to > 80% held out in 2 epochs', () => {
    const { train: digits, test: held } = loadMnist({ seed: 8, testCount: 500 });
    const graph = referenceMlp(9);
    const history = trainFp32(graph, take(digits, 1000), { epochs: 2, seed: 10, test: held });
    expect(history[1].testAccuracy!, JSON.stringify(history)).toBeGreaterThan(0.8);
  });

  it('rejects a dataset whose size does not match the input', () => {
    expect(() => trainFp32(smallMlp(1), { images: new Float32Array(5), labels: new Uint8Array(2), count: 2 }, { epochs: 1, seed: 1 })).toThrow(ShapeError);
  });
});

describe('graph files', () => {
  it('round-trip through JSON with identical outputs', () => {
    const graph = referenceCnn(12);
    const copy = loadGraph(JSON.parse(JSON.stringify(saveGraph(graph, { note: 'x' }))));
    expect(copy.nodes.map((n) => [n.name, n.kind, n.shape])).toEqual(graph.nodes.map((n) => [n.name, n.kind, n.shape]));
    const x = new Float32Array(3 * 784).map((_, i) => (i % 13) / 13);
    expect(predict(copy, x, 3)).toEqual(predict(graph, x, 3));
  });

  it('reject inconsistent files with FormatError or ShapeError', () => {
    const file = saveGraph(referenceMlp(13));
    expect(() => loadGraph({ ...file, format: 'other' })).toThrow(FormatError);
    const badData = structuredClone(file);
    badData.nodes[0].weight!.float32 = badData.nodes[0].weight!.float32.slice(0, 100);
    expect(() => loadGraph(badData)).toThrow(FormatError);
    const badShape = structuredClone(file);
    badShape.nodes[1].shape = [11];
    expect(() => loadGraph(badShape)).toThrow(ShapeError);
    const dangling = structuredClone(file);
    dangling.nodes[1].inputs = ['nowhere'];
    expect(() => loadGraph(dangling)).toThrow(FormatError);
  });
});

describe('committed reference artifacts (models/*.json, written by scripts/train-reference.ts)', () => {
  for (const [file, params] of [['models/reference-cnn.json', 1338], ['models/reference-mlp.json', 101_770]] as const) {
    it.skipIf(!existsSync(file))(`${file} loads and reproduces its recorded test accuracy`, () => {
      const json = JSON.parse(readFileSync(file, 'utf8'));
      const graph = loadGraph(json);
      expect(parameterCount(graph)).toBe(params);
      const { test } = loadMnist({ seed: json.meta.seeds.data });
      expect(evaluate(graph, test).accuracy).toBeCloseTo(json.meta.accuracy.test, 6);
    });
  }
});
