// Scheme search (src/compiler/train/scheme_search.ts): the best-first search returns the
// scheme of highest expected gain that fits (checked against brute force over every scheme),
// respects the arena budget, follows the gains in a synthetic case, and refuses with a typed
// error naming what would fit; the memory it plans equals lowerTrainStep's; the contribution
// measurement has the documented shape and is deterministic.
import { describe, expect, it } from 'vitest';
import { getDevice, sramBudget } from '../../src/compiler/devices.js';
import { mobilenetV2 } from '../../src/compiler/models.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import { WEIGHT_RATIOS, type TrainRecipe, type WeightRatio } from '../../src/compiler/train/recipe.js';
import { mobilenetV2Sparse } from '../../src/compiler/train/schemes.js';
import {
  expectedGain, measureContributions, searchScheme, trainStepMemory, type Contributions, type Scheme, type SchemeMemory,
} from '../../src/compiler/train/scheme_search.js';
import { BudgetError } from '../../src/formats/errors.js';
import { take } from '../../src/host/datasets/mnist.js';
import { Random } from '../../src/host/random.js';
import { referenceData, referenceQModel } from '../../targets/node/reference.js';

const data = referenceData();
const { qmodel } = referenceQModel('reference-cnn', data);
const LAYERS = ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'];
const device = getDevice('nrf52840');

/** Seeded random gains; weight gains grow with the ratio, as measured gains usually do. */
function randomContributions(seed: number): Contributions {
  const rng = new Random(seed);
  const weightGain: Contributions['weightGain'] = {};
  for (const l of LAYERS) {
    let g = rng.uniform(-0.01, 0.01);
    weightGain[l] = {};
    for (const r of WEIGHT_RATIOS) weightGain[l][r] = g += rng.uniform(-0.005, 0.02);
  }
  const biasGain = [0, ...LAYERS.map(() => rng.uniform(-0.01, 0.05))];
  return { model: 'reference-cnn', layers: LAYERS, biasGain, weightGain, baseline: { classifierOnly: 0.5, biasOnly: 0.5 }, proxy: 'synthetic' };
}

/** Synthetic memory: 1,000 B + 500 B per trained bias layer + ratio x 4,000 B per weight update. */
function syntheticMemory(recipe: TrainRecipe): SchemeMemory {
  const weights = (recipe.weights ?? []).reduce((s, w) => s + 4000 * w.ratio, 0);
  return { arenaBytes: 1000 + 500 * (recipe.biasLastK ?? 0) + weights, flashBytes: 0 };
}

function* allSchemes(): Generator<Scheme> {
  const options: (0 | WeightRatio)[] = [0, ...WEIGHT_RATIOS];
  for (let k = 0; k <= LAYERS.length; k++) {
    for (let code = 0; code < options.length ** LAYERS.length; code++) {
      const weights = LAYERS.flatMap((layer, i) => {
        const ratio = options[Math.floor(code / options.length ** i) % options.length];
        return ratio ? [{ layer, ratio }] : [];
      });
      yield { biasLastK: k, weights };
    }
  }
}

describe('searchScheme', () => {
  it('returns the best fitting scheme: brute force over all 18,750 schemes agrees, for seeded gains and budgets', () => {
    for (const [seed, budget] of [[1, 3000], [2, 6000], [3, 9000], [4, 15000], [5, 30000]]) {
      const c = randomContributions(seed);
      const choice = searchScheme(qmodel, c, { device, budgetBytes: budget, memoryOf: syntheticMemory });
      let best = -Infinity;
      for (const s of allSchemes()) {
        const m = syntheticMemory({ biasLastK: s.biasLastK, weights: s.weights });
        if (m.arenaBytes <= budget) best = Math.max(best, expectedGain(c, s));
      }
      const where = `seed ${seed}, budget ${budget} B: chose ${choice.label} (${choice.memory.arenaBytes} B)`;
      expect(choice.memory.arenaBytes, where).toBeLessThanOrEqual(budget);
      expect(syntheticMemory(choice.recipe).arenaBytes, where).toBe(choice.memory.arenaBytes);
      expect(choice.expectedGain, where).toBeCloseTo(best, 12);
      expect(expectedGain(c, choice.scheme), where).toBeCloseTo(choice.expectedGain, 12);
      expect(choice.exhaustive, where).toBe(true);
      // a search stopped after 2 plans falls back to a greedy choice (exhaustive false), which fits too
      const greedy = searchScheme(qmodel, c, { device, budgetBytes: budget, memoryOf: syntheticMemory, maxEvaluations: 2 });
      if (greedy.exhaustive) expect(greedy.expectedGain, where).toBeCloseTo(best, 12); // found within 2 plans
      expect(greedy.memory.arenaBytes, where).toBeLessThanOrEqual(budget);
      expect(greedy.expectedGain, where).toBeLessThanOrEqual(best + 1e-12);
    }
  });

  it('follows the gains: the higher-gain update when both fit, the one that fits otherwise', () => {
    const c: Contributions = {
      model: 'reference-cnn', layers: LAYERS, biasGain: [0, 0, 0, 0, 0, 0], proxy: 'synthetic', baseline: { classifierOnly: 0.5, biasOnly: 0.5 },
      weightGain: { pw2: { 1: 0.05 }, pw1: { 0.5: 0.03 } },
    };
    const roomy = searchScheme(qmodel, c, { device, budgetBytes: 10_000, memoryOf: syntheticMemory });
    expect(roomy.recipe.weights).toEqual([{ layer: 'pw1', ratio: 0.5 }, { layer: 'pw2', ratio: 1 }]);
    expect(roomy.expectedGain).toBeCloseTo(0.08, 12);
    const tight = searchScheme(qmodel, c, { device, budgetBytes: 5500, memoryOf: syntheticMemory }); // pw2 (5,000 B) fits, not both
    expect(tight.recipe.weights).toEqual([{ layer: 'pw2', ratio: 1 }]);
    const tighter = searchScheme(qmodel, c, { device, budgetBytes: 4000, memoryOf: syntheticMemory }); // only pw1 at 1/2 (3,000 B)
    expect(tighter.recipe.weights).toEqual([{ layer: 'pw1', ratio: 0.5 }]);
  });

  it('plans real train steps: the chosen step fits the device and its memory is lowerTrainStep\'s', () => {
    const memoryOf = trainStepMemory(qmodel);
    for (const recipe of [{}, { biasLastK: 3 }, { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.25 as const }] }]) {
      expect(memoryOf(recipe).arenaBytes, JSON.stringify(recipe)).toBe(lowerTrainStep(qmodel, recipe).report.arenaBytes);
    }
    const full = lowerTrainStep(qmodel, { weights: LAYERS.map((layer) => ({ layer, ratio: 1 as const })) }).report.arenaBytes;
    const budget = full - 1; // the full update does not fit; something smaller must be chosen
    const choice = searchScheme(qmodel, randomContributions(7), { device, budgetBytes: budget });
    expect(lowerTrainStep(qmodel, choice.recipe).report.arenaBytes, choice.label).toBeLessThanOrEqual(budget);
  });

  it('throws BudgetError naming the smallest scheme and the devices it would fit when nothing fits', () => {
    const smallest = trainStepMemory(qmodel)({}).arenaBytes;
    let error: unknown;
    try {
      searchScheme(qmodel, randomContributions(1), { device, budgetBytes: smallest - 16 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BudgetError);
    const e = error as BudgetError;
    expect(e.needed).toBe(smallest);
    expect(e.available).toBe(smallest - 16);
    expect(e.message).toMatch(/classifier only/);
    expect(e.message).toMatch(new RegExp(`would fit a ${smallest} B budget \\(devices: .*nrf52840`));
    expect(e.contributors.length).toBeGreaterThan(0);
  });
});

describe('trainStepMemory: the step lowerTrainStep builds, streamed pairs included', () => {
  const rng = new Random(0x5c4);
  const mnv2 = quantizeGraph(mobilenetV2(1, 0.35, 64, 2), Float32Array.from({ length: 2 * 64 * 64 * 3 }, () => rng.next()), { batchSize: 2, percentile: 100 });
  const sparse = mobilenetV2Sparse();
  const whole = lowerTrainStep(mnv2, sparse, { input: 'int8', fuse: 'never' }).report.arenaBytes;
  const streamed = lowerTrainStep(mnv2, sparse, { input: 'int8', fuse: 'always' }).report.arenaBytes;
  // a board whose budget lies between the sparse step whole and streamed
  const roomy = getDevice('stm32h743');
  const tight = { ...roomy, name: 'tight', sramBytes: roomy.sramBytes - sramBudget(roomy) + (whole + streamed) / 2 };

  it('plans the same arena and pairs as lowerTrainStep for each sample type and fuse mode', () => {
    const cases = [
      { input: 'int8', device: tight }, { input: 'int8', device: roomy }, { input: 'int8', fuse: 'always' }, { input: 'int8', fuse: 'never' },
      { input: 'float32', device: roomy }, { input: 'float32', fuse: 'always' },
    ] as const;
    for (const options of cases) {
      const where = `${options.input} ${'device' in options ? options.device.name : options.fuse}`;
      const planned = trainStepMemory(mnv2, options)(sparse);
      const built = lowerTrainStep(mnv2, sparse, options).report;
      expect(planned.arenaBytes, where).toBe(built.arenaBytes);
      expect(planned.streamedPairs, where).toBe(built.opCounts.EXPAND_DEPTHWISE ?? 0);
    }
    expect(trainStepMemory(mnv2, { input: 'int8', device: tight })(sparse)).toMatchObject({ arenaBytes: streamed, streamedPairs: 13 });
    expect(trainStepMemory(mnv2, { input: 'int8', device: roomy })(sparse)).toMatchObject({ arenaBytes: whole, streamedPairs: 0 });
  });

  it('lets the search choose a scheme that only fits streamed, and lowerTrainStep builds it within the budget', () => {
    const layers = ['b15_expand', 'b16_expand', 'b17_expand'];
    const c: Contributions = {
      model: mnv2.name!, layers, biasGain: [0, 0.01, 0.02, 0.03], proxy: 'synthetic', baseline: { classifierOnly: 0.5, biasOnly: 0.5 },
      weightGain: Object.fromEntries(layers.map((l, i) => [l, { 0.25: 0.01 * (i + 1) }])),
    };
    const choice = searchScheme(mnv2, c, { device: tight, input: 'int8' });
    const where = `${choice.label}: ${choice.memory.arenaBytes} B (${choice.memory.streamedPairs} pairs), budget ${choice.budgetBytes} B`;
    expect(choice.label, where).toBe('classifier + biases of the last 3 + b15_expand at 0.25 + b16_expand at 0.25 + b17_expand at 0.25');
    expect(choice.memory.streamedPairs, where).toBe(13);
    expect(lowerTrainStep(mnv2, choice.recipe, { input: 'int8', device: tight }).report.arenaBytes, where).toBe(choice.memory.arenaBytes);
    // planned unstreamed, the same scheme would not fit
    expect(trainStepMemory(mnv2, { input: 'int8', fuse: 'never' })(choice.recipe).arenaBytes, where).toBeGreaterThan(choice.budgetBytes);
  });
});

describe('measureContributions', () => {
  it('measures 1 + n + n x ratios seeded runs, relative to classifier only and bias-only, deterministically', () => {
    const options = { train: take(data.train, 48), validation: take(data.test, 200), ratios: [0.5] as WeightRatio[], learningRate: 0.02, seed: 3 };
    const labels: string[] = [];
    const a = measureContributions(qmodel, { ...options, onRun: (label) => labels.push(label) });
    expect(labels.length).toBe(1 + LAYERS.length + LAYERS.length);
    expect(a.layers).toEqual(LAYERS);
    expect(a.biasGain[0]).toBe(0);
    expect(a.biasGain.length).toBe(LAYERS.length + 1);
    expect(a.baseline.biasOnly).toBeCloseTo(a.baseline.classifierOnly + a.biasGain[LAYERS.length], 12);
    for (const l of LAYERS) expect(Object.keys(a.weightGain[l]), l).toEqual(['0.5']);
    // accuracies are counts over 200 samples: every gain is a multiple of 1/200
    for (const g of [...a.biasGain, ...LAYERS.map((l) => a.weightGain[l][0.5]!)]) expect(Math.abs(g * 200 - Math.round(g * 200)), `gain ${g}`).toBeLessThan(1e-9);
    expect(measureContributions(qmodel, options)).toEqual(a);
  });
});
