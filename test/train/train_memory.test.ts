import { describe, expect, it } from 'vitest';
import { getDevice } from '../../src/compiler/devices.js';
import type { Graph } from '../../src/compiler/graph.js';
import { mobilenetV2, referenceCnn } from '../../src/compiler/models.js';
import { buildTrainStep } from '../../src/compiler/train/autodiff.js';
import { paramLayers, resolveRecipe, type TrainRecipe } from '../../src/compiler/train/recipe.js';
import { fullUpdate, mobilenetV2Sparse } from '../../src/compiler/train/schemes.js';
import { checkTrainBudget, planTrainMemory, type TrainMemoryReport } from '../../src/compiler/train/train_memory.js';
import { BudgetError } from '../../src/formats/errors.js';

function plan(graph: Graph, recipe: TrainRecipe): TrainMemoryReport {
  const resolved = resolveRecipe(graph, recipe);
  return planTrainMemory(graph, resolved, buildTrainStep(graph, resolved));
}

const cnn = referenceCnn(1);
const CNN_SCHEMES: [string, TrainRecipe][] = [
  ['classifier only', {}],
  ['bias only, last 2', { biasLastK: 2 }],
  ['sparse: + pw2 at 1/2', { biasLastK: 2, weights: [{ layer: 'pw2', ratio: 0.5 }] }],
  ['full', { weights: ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'].map((layer) => ({ layer, ratio: 1 as const })) }],
];

function checkPlacement(r: TrainMemoryReport, what: string): void {
  const rows = r.buffers;
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const [a, b] = [rows[i], rows[j]];
      const together = a.first <= b.last && b.first <= a.last;
      const overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes && a.bytes > 0 && b.bytes > 0;
      const shared = a.sharesWith === b.name || b.sharesWith === a.name || (a.sharesWith !== undefined && a.sharesWith === b.sharesWith);
      if (together && overlap && !shared) expect.fail(`${what}: '${a.name}' [${a.first},${a.last}] @${a.offset}+${a.bytes} overlaps '${b.name}' [${b.first},${b.last}] @${b.offset}+${b.bytes}`);
    }
  }
  const end = Math.max(...rows.map((b) => b.offset + b.bytes));
  expect(r.arenaBytes, what).toBe(Math.ceil(end / 16) * 16);
  expect(Math.max(...r.timeline.map((t) => t.highWater)), what).toBe(end);
}

describe('train-step memory plan on the reference CNN', () => {
  const reports = CNN_SCHEMES.map(([what, recipe]) => [what, plan(cnn, recipe)] as const);
  for (const [what, r] of reports) {
    it(`${what}: no two live buffers overlap; arena = max(offset + bytes)`, () => checkPlacement(r, what));
  }
  it('grows monotonically: classifier only -> bias only -> sparse -> full', () => {
    const sizes = reports.map(([, r]) => r.arenaBytes);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i], `${reports[i][0]} vs ${reports[i - 1][0]}: ${sizes}`).toBeGreaterThan(sizes[i - 1]);
  });
  it('bias only saves no activation: masks and gradients only', () => {
    const r = plan(cnn, { biasLastK: 5, classifier: false });
    expect(r.categoryPeaks.SAVED_ACTIVATION).toBeUndefined();
    expect(r.categoryPeaks.MASK).toBeGreaterThan(0);
    expect(r.categoryPeaks.GRADIENT).toBeGreaterThan(0);
    expect(r.categoryPeaks.OPTIMIZER).toBeUndefined();
  });
  it('classifier only keeps no mask and the pooled features as its saved input', () => {
    const r = plan(cnn, {});
    expect(r.categoryPeaks.MASK).toBeUndefined();
    expect(r.categoryPeaks.SAVED_ACTIVATION).toBe(32); // gap output, 32 int8 features
    expect(r.categoryPeaks.TRAINABLE).toBe(10 * 32 + 10 * 4); // fc int8 weights + int32 biases
  });
  it('counts trainable slices, masks and saved channels exactly (sparse scheme)', () => {
    const r = plan(cnn, CNN_SCHEMES[2][1]);
    const bytes = (name: string) => r.buffers.find((b) => b.name === name)!.bytes;
    expect(bytes('pw2/weight')).toBe(16 * 16); // compact rows: the 16 trained of its 32 rows of 16 inputs
    // the whole filter, merged for the forward op and for the input gradient, each live for its op only
    const merged = r.buffers.filter((b) => b.name === 'pw2/filter');
    expect(merged.map((b) => [b.bytes, b.last - b.first])).toEqual([[32 * 16, 0], [32 * 16, 0]]);
    expect(bytes('pw2/bias')).toBe(32 * 4);
    const saved = r.buffers.find((b) => b.name === 'dw2/saved')!;
    expect([saved.bytes, saved.sharesWith]).toEqual([7 * 7 * 16, 'dw2']); // dw2's output kept alive, not copied
    expect(bytes('pw2/mask')).toBe(Math.ceil((7 * 7 * 32) / 8));
    expect(bytes('dw2/mask')).toBe(Math.ceil((7 * 7 * 16) / 8));
    expect(r.buffers.find((b) => b.name === 'pw1/mask')).toBeUndefined(); // below every trainable layer
  });
  it('momentum adds fp32 state per trainable parameter, live the whole step', () => {
    const without = plan(cnn, {});
    const withMomentum = plan(cnn, { momentum: 0.9 });
    const m = withMomentum.buffers.find((b) => b.category === 'OPTIMIZER')!;
    expect(m.bytes).toBe((10 * 32 + 10) * 4);
    expect([m.first, m.last]).toEqual([0, withMomentum.timeline.length - 1]);
    expect(withMomentum.arenaBytes).toBeGreaterThan(without.arenaBytes);
  });
  it('reports the peak op, the buffers live there and a per-op timeline', () => {
    const r = plan(cnn, CNN_SCHEMES[3][1]);
    expect(r.timeline[r.peakOp].label).toBe(r.peakOpLabel);
    const sum = Object.values(r.breakdown).reduce((a, b) => a + b!, 0);
    expect(r.liveAtPeak.reduce((a, b) => a + b.bytes, 0)).toBe(sum);
    expect(r.timeline[r.peakOp].liveBytes).toBe(sum);
  });
  it('flash holds frozen weights; trained slices are counted once as their initial values', () => {
    const r = plan(cnn, CNN_SCHEMES[2][1]);
    const weights = paramLayers(cnn).reduce((n, l) => n + l.weight.data.length, 0);
    // pw2 trains 16 of 32 rows: its 16 rows' initial values, beside the whole filter MERGE_ROWS reads
    expect(r.flash.frozenWeights + r.flash.trainedWeights).toBe(weights + 16 * 16);
    expect(r.flash.trainedWeights).toBe(16 * 16 + 10 * 32); // pw2's trained rows, the whole fc
  });
  it('refuses a plan over the budget with needed, available and the buffers at the peak', () => {
    const r = plan(cnn, CNN_SCHEMES[3][1]);
    const tiny = { ...getDevice('stm32f746'), name: 'tiny', sramBytes: 40_000, reservedSramBytes: 32_768 };
    try {
      checkTrainBudget(r, tiny, 'full update');
      expect.fail('expected a BudgetError');
    } catch (e) {
      if (!(e instanceof BudgetError)) throw e;
      expect([e.needed, e.available]).toEqual([r.arenaBytes, 40_000 - 32_768]);
      expect(e.contributors[0].name).toBe(r.liveAtPeak[0].name);
      expect(e.message).toMatch(/full update on tiny \(SRAM arena\) needs \d+ B but only 7232 B are available/);
    }
  });
});

describe('train-step memory plan on MobileNetV2-w0.35, 128x128, 102 classes', () => {
  const graph = mobilenetV2(1, 0.35, 128, 102);
  const schemes: [string, TrainRecipe][] = [
    ['classifier only', {}],
    ['bias only, last 10', { biasLastK: 10 }],
    ['sparse', mobilenetV2Sparse()],
    ['full', fullUpdate(graph)],
  ];
  const reports = schemes.map(([what, recipe]) => [what, plan(graph, recipe)] as const);
  it('grows monotonically: classifier only -> bias only -> sparse -> full', () => {
    const sizes = reports.map(([, r]) => r.arenaBytes);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i], `${schemes[i][0]}: ${sizes}`).toBeGreaterThan(sizes[i - 1]);
  });
  it('sparse: no two live buffers overlap', () => checkPlacement(reports[2][1], 'sparse'));
  it('the forward pass at block 2 bounds every scheme from below (64x64x48 expand output)', () => {
    for (const [what, r] of reports) expect(r.arenaBytes, what).toBeGreaterThanOrEqual(64 * 64 * 48 + 32 * 32 * 48);
    expect(reports[0][1].peakOpLabel).toBe('op 4 forward b2_dw');
  });
  it('the classifier slice is 1280 x 102 int8 weights + 102 int32 biases', () => {
    expect(reports[0][1].categoryPeaks.TRAINABLE).toBe(1280 * 102 + 102 * 4);
  });
});
