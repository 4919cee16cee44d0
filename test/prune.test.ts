// The pruning tool: group and 2:4 masks (block structure, exact counts, smallest first), the
// Zhu & Gupta schedule, layer selection, allocation over layers, fine-tuning that keeps
// pruned weights at exactly 0, reproducible seeded runs, the sensitivity table, and the
// acceptance run on the reference CNN (fp32 and int8 on the device runtime); the fine-tuning
// aids: the distillation loss (value, gradient against finite differences) and
// quantization-aware fine-tuning (weights on the int8 grid; the fake-quantized forward of a
// small layer equals the int8 device output within one output step, closer than float).
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../src/compiler/builder.js';
import { getDevice } from '../src/compiler/devices.js';
import { forward, outputOf, predict } from '../src/compiler/engine.js';
import { softmaxCrossEntropy } from '../src/compiler/fp32/index.js';
import type { FullyConnectedNode, Graph } from '../src/compiler/graph.js';
import { referenceCnn, referenceMlp } from '../src/compiler/models.js';
import { distillationLoss, teacherLogits } from '../src/compiler/prune/distill.js';
import { activationGrids, fakeQuantActivations, fakeQuantForward, fakeQuantWeights, WeightFakeQuant } from '../src/compiler/prune/fake_quant.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { layerSensitivity, prunableLayerNames, pruneGraph, type PruneOptions } from '../src/compiler/prune.js';
import { globalMagnitudeTargets, referenceBlockNorms, sensitivityTargets } from '../src/compiler/prune/allocate.js';
import { pruneLayers, resolveGroup } from '../src/compiler/prune/layers.js';
import { blockScores, groupMask, nmMask } from '../src/compiler/prune/masks.js';
import { isMaskUpdate, sparsityAt, type GradualSchedule } from '../src/compiler/prune/schedule.js';
import { ValueError } from '../src/formats/errors.js';
import { loadMnist, take } from '../src/host/datasets/mnist.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { int8Accuracy } from '../targets/node/prune_command.js';
import { CALIBRATION_DIGITS, referenceData, referenceGraph } from '../targets/node/reference.js';
import { Random } from '../src/host/random.js';
import { Rng } from './helpers/rng.js';

function randomWeights(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function zerosPerBlock(mask: Uint8Array, outC: number, inC: number, g: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < outC / g; b++) {
    for (let i = 0; i < inC; i++) {
      let zeros = 0;
      for (let r = 0; r < g; r++) zeros += mask[(b * g + r) * inC + i] ? 0 : 1;
      out.push(zeros);
    }
  }
  return out;
}

describe('group masks', () => {
  const rng = new Rng(3);
  for (const g of [1, 2, 4, 8]) {
    for (const [outC, inC] of [[8, 5], [16, 3], [24, 17]]) {
      for (const s of [0, 0.3, 0.5, 0.7, 0.95]) {
        it(`g=${g} ${outC}x${inC} at ${s}: whole blocks, exactly round(s * blocks), smallest L2 norms`, () => {
          const w = randomWeights(rng, outC * inC);
          const mask = groupMask(w, outC, inC, g, s);
          const blocks = (outC / g) * inC;
          const zeros = zerosPerBlock(mask, outC, inC, g);
          expect(zeros.every((z) => z === 0 || z === g), `a block is partly pruned: ${zeros}`).toBe(true);
          expect(zeros.filter((z) => z === g).length).toBe(Math.round(s * blocks));
          const scores = blockScores(w, outC, inC, g);
          const pruned = [...scores].filter((_, k) => zeros[k] === g);
          const kept = [...scores].filter((_, k) => zeros[k] === 0);
          if (pruned.length && kept.length) expect(Math.max(...pruned)).toBeLessThanOrEqual(Math.min(...kept));
        });
      }
    }
  }

  it('with a previous mask, pruned blocks stay pruned even when their weights grew back', () => {
    const w = randomWeights(new Rng(4), 16 * 8);
    const first = groupMask(w, 16, 8, 4, 0.25);
    const grown = w.map((v, i) => (first[i] ? v * 0.01 : 100)); // pruned weights now the largest
    const second = groupMask(grown, 16, 8, 4, 0.5, first);
    for (let i = 0; i < w.length; i++) if (!first[i]) expect(second[i], `weight ${i}`).toBe(0);
    expect(zerosPerBlock(second, 16, 8, 4).filter((z) => z === 4).length).toBe(16);
  });
});

describe('2:4 masks', () => {
  const rng = new Rng(5);
  for (const [outC, inC] of [[4, 8], [10, 32], [3, 12]]) {
    it(`${outC}x${inC}: exactly 2 zeros in every run of 4, on the 2 smallest magnitudes`, () => {
      const w = randomWeights(rng, outC * inC);
      const mask = nmMask(w, outC, inC, 0.5);
      for (let o = 0; o < outC; o++) {
        for (let r = 0; r < inC / 4; r++) {
          const idx = [0, 1, 2, 3].map((t) => o * inC + r * 4 + t);
          const zeroed = idx.filter((j) => !mask[j]);
          expect(zeroed.length, `row ${o} run ${r}`).toBe(2);
          const keptMin = Math.min(...idx.filter((j) => mask[j]).map((j) => Math.abs(w[j])));
          for (const j of zeroed) expect(Math.abs(w[j]), `row ${o} run ${r}`).toBeLessThanOrEqual(keptMin);
        }
      }
    });
  }

  it('below 50% prunes exactly round(s * n) weights, never more than 2 per run; a short tail stays dense', () => {
    const w = randomWeights(new Rng(6), 6 * 10);
    const mask = nmMask(w, 6, 10, 0.3);
    expect(mask.filter((m) => m === 0).length).toBe(Math.round(0.3 * 60));
    for (let o = 0; o < 6; o++) {
      for (let r = 0; r < 2; r++) expect([0, 1, 2, 3].filter((t) => !mask[o * 10 + r * 4 + t]).length).toBeLessThanOrEqual(2);
      expect([8, 9].every((i) => mask[o * 10 + i] === 1), `tail of row ${o}`).toBe(true);
    }
  });
});

describe('gradual schedule', () => {
  const s: GradualSchedule = { initialSparsity: 0.1, finalSparsity: 0.8, rampSteps: 100, updateEvery: 7 };
  it('starts at the initial sparsity, follows the cubic ramp, reaches and holds the final sparsity', () => {
    expect(sparsityAt(0, s)).toBe(0.1);
    for (const t of [10, 50, 90]) expect(sparsityAt(t, s)).toBeCloseTo(0.8 + (0.1 - 0.8) * (1 - t / 100) ** 3, 12);
    expect(sparsityAt(100, s)).toBeCloseTo(0.8, 12);
    expect(sparsityAt(250, s)).toBeCloseTo(0.8, 12);
    for (let t = 1; t <= 100; t++) expect(sparsityAt(t, s)).toBeGreaterThanOrEqual(sparsityAt(t - 1, s));
  });
  it('updates masks every k steps and at the end of the ramp only', () => {
    const updates = Array.from({ length: 120 }, (_, t) => t + 1).filter((t) => isMaskUpdate(t, s));
    expect(updates).toEqual([7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91, 98, 100]);
  });
});

describe('layers', () => {
  it('prunes 1x1 convolutions after the first conv and fully connected layers, never depthwise or the first conv', () => {
    expect(prunableLayerNames(referenceCnn(1))).toEqual(['pw1', 'pw2', 'fc']);
    expect(() => pruneLayers(referenceCnn(1), 'group', 4, ['dw1'])).toThrow(ValueError);
    expect(() => pruneLayers(referenceCnn(1), 'group', 4, ['conv1'])).toThrow(/may not be pruned/);
    expect(() => pruneLayers(referenceCnn(1), 'group', 4, ['nope'])).toThrow(/not in the graph/);
  });
  it('falls back to the largest group size that divides outC, and says so', () => {
    expect([resolveGroup(4, 10), resolveGroup(8, 12), resolveGroup(8, 16), resolveGroup(2, 7)]).toEqual([2, 4, 8, 1]);
    const fc = pruneLayers(referenceCnn(1), 'group', 4).find((l) => l.node.name === 'fc')!;
    expect([fc.group, fc.note]).toEqual([2, 'g=4 does not divide 10 output channels: uses g=2']);
  });
});

/** A 784-32-16-10 perceptron: fast enough to fine-tune in tests. */
function smallMlp(seed: number): Graph {
  const b = new ModelBuilder('small-mlp', [784]);
  let x = b.fullyConnected(b.input(), { units: 32, activation: 'relu', name: 'fc1' });
  x = b.fullyConnected(x, { units: 16, activation: 'relu', name: 'fc2' });
  return b.build(b.fullyConnected(x, { units: 10, name: 'fc3' }), new Rng(seed));
}

const mnist = loadMnist({ seed: 1 });
const small = { train: take(mnist.train, 400), test: take(mnist.test, 200) };
const quick: PruneOptions = { sparsity: 0.8, group: 4, epochs: 2, updateEvery: 3, seed: 9 };

describe('pruneGraph', () => {
  it('keeps masked weights exactly 0 after every step, masks only grow, and the final sparsity is reached', () => {
    const graph = smallMlp(2);
    const before = (graph.nodes[1] as FullyConnectedNode).weight.data.slice();
    let last = new Map<string, Uint8Array>();
    let checked = 0;
    const result = pruneGraph(graph, small, {
      ...quick,
      onStep: ({ graph: g, masks }) => {
        for (const [name, mask] of masks) {
          const w = (g.nodes.find((n) => n.name === name) as FullyConnectedNode).weight.data;
          for (let i = 0; i < w.length; i++) if (!mask[i] && !Object.is(w[i], 0)) throw new Error(`${name}[${i}] = ${w[i]} under a 0 mask`);
          const prev = last.get(name);
          if (prev) for (let i = 0; i < mask.length; i++) if (!prev[i] && mask[i]) throw new Error(`${name}[${i}] grew back`);
          last.set(name, mask.slice());
          checked++;
        }
      },
    });
    expect(checked).toBe(3 * 2 * Math.ceil(400 / 32));
    expect(result.sparsity).toBeCloseTo(0.8, 2);
    for (const l of result.layers) expect(l.sparsity, l.layer).toBeCloseTo(0.8, 1);
    expect(result.layers.map((l) => [l.layer, l.pattern])).toEqual([['fc1', 'g4'], ['fc2', 'g4'], ['fc3', 'g2']]);
    expect(result.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(Array.from((graph.nodes[1] as FullyConnectedNode).weight.data)).toEqual(Array.from(before)); // input untouched
  });

  it('reproduces a seeded run bit for bit; another seed gives other weights', () => {
    const run = (seed: number) => pruneGraph(smallMlp(2), small, { ...quick, epochs: 1, seed });
    const a = run(9);
    const b = run(9);
    const c = run(10);
    const weights = (r: ReturnType<typeof run>) => Array.from((r.graph.nodes[2] as FullyConnectedNode).weight.data);
    expect(weights(a)).toEqual(weights(b));
    expect(a.history).toEqual(b.history);
    expect(weights(a)).not.toEqual(weights(c));
  });

  it('2:4 leaves exactly 2 zeros in every run of 4 and refuses another sparsity', () => {
    const r = pruneGraph(smallMlp(3), small, { pattern: '2:4', epochs: 1, seed: 1 });
    for (const l of r.layers) {
      const mask = r.masks.get(l.layer)!;
      const [outC, inC] = l.shape;
      for (let j = 0; j < outC * inC; j += 4) expect(mask.subarray(j, j + 4).filter((m) => m === 0).length, `${l.layer} run at ${j}`).toBe(2);
    }
    expect(() => pruneGraph(smallMlp(3), small, { pattern: '2:4', sparsity: 0.7, epochs: 0, seed: 1 })).toThrow(ValueError);
  });

  it('global allocation reaches the overall target with different per-layer sparsities', () => {
    const r = pruneGraph(smallMlp(4), small, { sparsity: 0.75, group: 1, allocation: 'global', epochs: 0, seed: 1 });
    const total = r.layers.reduce((n, l) => n + l.weights, 0);
    const zeros = r.layers.reduce((n, l) => n + l.weights - l.kept, 0);
    expect(Math.abs(zeros - Math.round(0.75 * total))).toBeLessThanOrEqual(1);
    expect(new Set(r.layers.map((l) => l.sparsity.toFixed(3))).size).toBeGreaterThan(1);
  });
});

describe('allocation', () => {
  const layers = pruneLayers(smallMlp(5), 'group', 1);
  it('global ranking prunes the weakest normalised blocks first', () => {
    const targets = globalMagnitudeTargets(layers, referenceBlockNorms(layers), 0.5);
    const sizes = layers.map((l) => l.outC * l.inC);
    const reached = targets.reduce((s, t, i) => s + t * sizes[i], 0) / sizes.reduce((a, b) => a + b, 0);
    expect(reached).toBeCloseTo(0.5, 3);
  });
  it('sensitivity allocation prunes the least sensitive layer most and reaches the target', () => {
    const table = [0.5, 0.9].flatMap((s) => [
      { layer: 'fc1', sparsity: s, drop: s / 100 }, { layer: 'fc2', sparsity: s, drop: s / 5 }, { layer: 'fc3', sparsity: s, drop: s },
    ]);
    const targets = sensitivityTargets(layers, table, 0.6);
    const sizes = layers.map((l) => l.outC * l.inC);
    expect(targets.reduce((s, t, i) => s + t * sizes[i], 0) / sizes.reduce((a, b) => a + b, 0)).toBeCloseTo(0.6, 6);
    expect(targets[0]).toBeGreaterThan(targets[1]);
    expect(targets[1]).toBeGreaterThanOrEqual(targets[2]);
    expect(() => sensitivityTargets(layers, table, 0.95)).toThrow(/cannot reach/);
  });
});

describe('layerSensitivity', () => {
  it('gives one row per layer and sparsity, no drop at 0, and leaves the graph as it was', () => {
    const graph = smallMlp(6);
    const before = graph.nodes.map((n) => ('weight' in n ? Array.from(n.weight.data) : []));
    const r = layerSensitivity(graph, small.test, undefined, [0, 0.5, 0.99], { group: 1 });
    expect(r.points.map((p) => `${p.layer}@${p.sparsity}`)).toEqual(['fc1@0', 'fc1@0.5', 'fc1@0.99', 'fc2@0', 'fc2@0.5', 'fc2@0.99', 'fc3@0', 'fc3@0.5', 'fc3@0.99']);
    for (const p of r.points.filter((q) => q.sparsity === 0)) expect(p.drop).toBe(0);
    for (const p of r.points) expect(p.drop).toBeCloseTo(r.baseline - p.accuracy, 12);
    expect(graph.nodes.map((n) => ('weight' in n ? Array.from(n.weight.data) : []))).toEqual(before);
  });
});

const classes = 5;

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

describe('distillation loss', () => {
  const rng = new Rng(21);
  const batch = 4;
  const labels = [0, 3, 4, 1];
  const samples = [2, 0, 1, 2]; // rows of the teacher table, one repeated
  const teacher = randomArray(rng, 3 * classes, 3);
  for (const d of [{ temperature: 1, weight: 1 }, { temperature: 4, weight: 0.5 }, { temperature: 8, weight: 2 }]) {
    it(`T=${d.temperature} w=${d.weight}: gradient equals central finite differences`, () => {
      const logits = randomArray(rng, batch * classes, 2);
      const { grad } = distillationLoss(logits, labels, samples, teacher, classes, d);
      const h = 1e-2;
      for (let i = 0; i < logits.length; i++) {
        const at = (delta: number): number => {
          const z = Float64Array.from(logits);
          z[i] += delta;
          return distillationLoss(Float32Array.from(z), labels, samples, teacher, classes, d).loss;
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        expect(grad[i], `T=${d.temperature} w=${d.weight} logit ${i}: numeric ${numeric}`).toBeCloseTo(numeric, 3);
      }
    });
  }

  it('weight 0 is cross-entropy; a student equal to its teacher adds nothing', () => {
    const logits = randomArray(rng, batch * classes, 2);
    const ce = softmaxCrossEntropy(logits, labels, classes);
    const off = distillationLoss(logits, labels, samples, teacher, classes, { temperature: 4, weight: 0 });
    expect(off.loss).toBeCloseTo(ce.loss, 6);
    expect(Array.from(off.grad)).toEqual(Array.from(ce.grad));
    const self = distillationLoss(logits, labels, [0, 1, 2, 3], logits, classes, { temperature: 3, weight: 1 });
    expect(self.loss).toBeCloseTo(ce.loss, 5);
    self.grad.forEach((g, i) => expect(g, `logit ${i}`).toBeCloseTo(ce.grad[i], 6));
  });

  it('a teacher pulls the gradient towards its own softened output', () => {
    // Student indifferent (all logits 0), teacher sure of class 2, label 0: the soft term
    // lowers the loss's slope on class 2 (gradient more negative there than cross-entropy's).
    const zero = new Float32Array(classes);
    const sure = Float32Array.from({ length: classes }, (_, c) => (c === 2 ? 10 : 0));
    const ce = softmaxCrossEntropy(zero, [0], classes).grad;
    const kd = distillationLoss(zero, [0], [0], sure, classes, { temperature: 2, weight: 1 }).grad;
    expect(kd[2]).toBeLessThan(ce[2]);
  });
});

describe('teachers', () => {
  const data = take(referenceData().train, 96);

  it('an ensemble teaches the mean of its logits; one teacher teaches its own; unequal class counts are refused', () => {
    const [cnn, mlp] = [referenceCnn(5), referenceMlp(6)];
    const a = predict(cnn, data.images, data.count), b = predict(mlp, data.images, data.count);
    expect(Array.from(teacherLogits(cnn, data))).toEqual(Array.from(a));
    const mean = teacherLogits([cnn, mlp], data);
    mean.forEach((v, i) => expect(v, `logit ${i}`).toBeCloseTo((a[i] + b[i]) / 2, 5));
    const b3 = new ModelBuilder('three', [784]);
    const three = b3.build(b3.fullyConnected(b3.input(), { units: 3 }), new Random(1));
    expect(() => teacherLogits([cnn, three], data)).toThrow(ValueError);
  });

  it('pruneGraph distils from the given teacher: the unpruned graph given explicitly changes nothing, another teacher does', () => {
    const graph = referenceGraph('reference-cnn');
    const options: PruneOptions = { sparsity: 0.5, group: 1, epochs: 1, training: { learningRate: 0.01 }, distillation: { temperature: 4, weight: 1 }, seed: 3 };
    const weights = (o: PruneOptions): number[] => {
      const fc = pruneGraph(graph, { train: data }, o).graph.nodes.find((n) => n.name === 'fc') as FullyConnectedNode;
      return Array.from(fc.weight.data);
    };
    const implicit = weights(options);
    expect(weights({ ...options, teacher: graph })).toEqual(implicit);
    expect(weights({ ...options, teacher: referenceGraph('reference-mlp') })).not.toEqual(implicit);
  });
});

describe('fake-quantized weights', () => {
  const rng = new Rng(22);
  it('lie on the per-channel int8 grid within half a step, and pruned zeros stay +0', () => {
    for (const [channels, last] of [[6, false], [5, true]] as const) {
      const w = randomArray(rng, channels * 9);
      for (let i = 0; i < w.length; i += 4) w[i] = 0;
      const fq = fakeQuantWeights(w, channels, last);
      const channelOf = (i: number): number => (last ? i % channels : Math.floor(i / 9));
      const maxAbs = new Array(channels).fill(0);
      w.forEach((v, i) => (maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(v))));
      fq.forEach((v, i) => {
        const s = Math.fround(maxAbs[channelOf(i)] / 127);
        const where = `channels ${channels} last ${last} weight ${i}: ${w[i]} -> ${v}`;
        expect(Math.abs(v - w[i]), where).toBeLessThanOrEqual(s / 2 + 1e-7);
        expect(Math.abs(v / s - Math.round(v / s)), where).toBeLessThan(1e-3);
        if (w[i] === 0) expect(Object.is(v, 0), where).toBe(true);
      });
    }
  });

  it('swapIn / restore round-trips the float weights exactly; restore alone is a no-op', () => {
    const graph = referenceCnn(3);
    const before = graph.nodes.map((n) => ('weight' in n ? Array.from(n.weight.data) : []));
    const fq = new WeightFakeQuant(graph);
    fq.restore();
    fq.swapIn();
    expect(graph.nodes.map((n) => ('weight' in n ? Array.from(n.weight.data) : []))).not.toEqual(before);
    fq.restore();
    expect(graph.nodes.map((n) => ('weight' in n ? Array.from(n.weight.data) : []))).toEqual(before);
  });
});

describe('fake-quantized forward', () => {
  const rng = new Rng(23);
  const calibration = Float32Array.from({ length: 64 * 28 * 28 }, () => Math.max(0, rng.uniform(-0.4, 1)));

  it('activation grids are the ones quantizeGraph gives each tensor', () => {
    const graph = referenceCnn(4);
    const grids = activationGrids(graph, calibration);
    const tensors = new Map(quantizeGraph(graph, calibration).tensors.map((t) => [t.name, t]));
    for (const node of graph.nodes) {
      const t = tensors.get(node.kind === 'input' ? `${node.name}/int8` : node.name)!;
      expect(grids.get(node.name), node.name).toEqual({ scale: t.quant!.scale, zeroPoint: t.quant!.zeroPoint });
    }
  });

  it('a fully connected layer: equals the int8 device output within one output step, closer than float', async () => {
    const b = new ModelBuilder('fq-fc', [24]);
    const graph: Graph = b.build(b.fullyConnected(b.input(), { units: 12, name: 'fc' }), rng);
    const bias = (graph.nodes[1] as FullyConnectedNode).bias.data;
    bias.forEach((_, c) => (bias[c] = 0.3 * rng.normal()));
    const samples = 64;
    const cal = randomArray(rng, samples * 24);
    const grids = activationGrids(graph, cal);
    const inputs = fakeQuantActivations(cal.slice(), grids.get('input')); // on the input grid: the device's quantize is exact
    const session = await Session.create(Model.compile(quantizeGraph(graph, cal), { device: getDevice('stm32f746') }), { build: 'mvp' });
    const device = new Float32Array(samples * 12);
    for (let n = 0; n < samples; n++) device.set(session.run(inputs.subarray(n * 24, (n + 1) * 24))[0] as Float32Array, n * 12);
    const fq = new WeightFakeQuant(graph);
    const float = outputOf(forward(graph, inputs, samples));
    fq.swapIn();
    const simulated = outputOf(fakeQuantForward(graph, inputs, samples, grids));
    fq.restore();
    const step = grids.get('fc')!.scale[0];
    let exact = 0;
    let simulatedError = 0;
    let floatError = 0;
    for (let i = 0; i < device.length; i++) {
      const steps = Math.abs(simulated[i] - device[i]) / step;
      expect(steps, `sample ${Math.floor(i / 12)} output ${i % 12}: simulated ${simulated[i]} device ${device[i]}`).toBeLessThanOrEqual(1.001);
      if (steps < 1e-3) exact++;
      simulatedError += Math.abs(simulated[i] - device[i]);
      floatError += Math.abs(float[i] - device[i]);
    }
    expect(exact / device.length, `${exact} of ${device.length} outputs equal`).toBeGreaterThan(0.95);
    expect(simulatedError, `mean |error| simulated ${simulatedError / device.length}, float ${floatError / device.length}`).toBeLessThan(floatError / 4);
  });
});

// The full acceptance run (8,000 digits, 20 epochs) is `sparrow prune --allocation global -g 1
// -e 20 --lr 0.02 --steps 2500 --distill 4 --teacher reference-cnn-wide --qat-epochs 6 --int8`
// (docs/pruning.md); this is
// its light configuration (1,500 digits, 2 epochs, the last quantization-aware), fast enough
// for a test.
describe('reference CNN at 70 % over pw1, pw2 and fc (light fine-tuning)', () => {
  it('reaches the sparsity, recovers most of the one-shot loss, and int8 on the device runtime tracks fp32', async () => {
    const data = referenceData();
    const graph = referenceGraph('reference-cnn');
    const train = take(data.train, 1500);
    const options: PruneOptions = {
      sparsity: 0.7, group: 1, allocation: 'global', epochs: 2, rampSteps: Math.ceil(1500 / 32), training: { learningRate: 0.02 },
      distillation: { temperature: 4, weight: 1 }, quantizationAwareEpochs: 1, seed: 1,
    };
    const oneShot = pruneGraph(graph, { train, test: data.test }, { ...options, epochs: 0, quantizationAwareEpochs: 0 });
    const tuned = pruneGraph(graph, { train, test: data.test }, options);
    const dense = tuned.history[0].testAccuracy!;
    const shot = oneShot.history[oneShot.history.length - 1].testAccuracy!;
    const fp32 = tuned.history[tuned.history.length - 1].testAccuracy!;
    const int8 = await int8Accuracy(tuned.graph, take(data.train, CALIBRATION_DIGITS).images, data.test);
    const report = `dense ${dense}, one-shot ${shot}, fine-tuned fp32 ${fp32}, int8 ${int8}`;
    expect(tuned.sparsity, report).toBeGreaterThanOrEqual(0.7 - 1 / 960);
    expect(fp32 - shot, report).toBeGreaterThan(0.3);
    expect(Math.abs(int8 - fp32), report).toBeLessThanOrEqual(0.015);
  });
});
