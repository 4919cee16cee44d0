import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/compiler/builder.js';
import { backward, forward, outputOf } from '../../src/compiler/engine.js';
import { meanSquaredError, softmaxCrossEntropy } from '../../src/compiler/fp32/index.js';
import type { Graph } from '../../src/compiler/graph.js';
import { referenceCnn } from '../../src/compiler/models.js';
import { buildTrainStep, countPrunedWork, type NodeWork } from '../../src/compiler/train/autodiff.js';
import { resolveRecipe, type TrainRecipe } from '../../src/compiler/train/recipe.js';
import { runReferenceStep } from '../../src/compiler/train/reference_step.js';
import { Random } from '../../src/host/random.js';
import { Category } from '../../src/formats/schema.js';

const cnn = referenceCnn(3);
const BELOW = ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'];
const SCHEMES: Record<string, TrainRecipe> = {
  classifierOnly: {},
  biasOnly: { biasLastK: 5 },
  lastTwo: { weights: [{ layer: 'dw2', ratio: 1 }, { layer: 'pw2', ratio: 1 }] },
  sparse: { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.25 }] },
  full: { weights: BELOW.map((layer) => ({ layer, ratio: 1 as const })) },
};

function work(graph: Graph, recipe: TrainRecipe): Map<string, NodeWork> {
  const plan = buildTrainStep(graph, resolveRecipe(graph, recipe));
  return new Map(countPrunedWork(graph, plan).map((w) => [w.node, w]));
}
const counts = (w: NodeWork) => [w.activationGrad, w.inputGrad, w.update];

describe('pruned backward on the reference CNN: what runs per layer', () => {
  // [activation_grad, input_grad, update] per node, from the pruning rules in autodiff.ts.
  const expected: Record<string, Record<string, number[]>> = {
    classifierOnly: { conv1: [0, 0, 0], dw1: [0, 0, 0], pw1: [0, 0, 0], dw2: [0, 0, 0], pw2: [0, 0, 0], gap: [0, 0, 0], fc: [0, 0, 1] },
    // conv1's bias trains but its input is the image: no input_grad there.
    biasOnly: { conv1: [1, 0, 1], dw1: [1, 1, 1], pw1: [1, 1, 1], dw2: [1, 1, 1], pw2: [1, 1, 1], gap: [0, 1, 0], fc: [0, 1, 1] },
    lastTwo: { conv1: [0, 0, 0], dw1: [0, 0, 0], pw1: [0, 0, 0], dw2: [1, 0, 1], pw2: [1, 1, 1], gap: [0, 1, 0], fc: [0, 1, 1] },
    // pw1 trains weights; dw2 (bias, k=2) and pw2 (bias) above it; nothing below pw1.
    sparse: { conv1: [0, 0, 0], dw1: [0, 0, 0], pw1: [1, 0, 1], dw2: [1, 1, 1], pw2: [1, 1, 1], gap: [0, 1, 0], fc: [0, 1, 1] },
    full: { conv1: [1, 0, 1], dw1: [1, 1, 1], pw1: [1, 1, 1], dw2: [1, 1, 1], pw2: [1, 1, 1], gap: [0, 1, 0], fc: [0, 1, 1] },
  };
  for (const [scheme, perNode] of Object.entries(expected)) {
    it(scheme, () => {
      const w = work(cnn, SCHEMES[scheme]);
      for (const [node, c] of Object.entries(perNode)) expect(counts(w.get(node)!), `${scheme}: ${node}`).toEqual(c);
    });
  }
  it('frozen layers below every trainable one save nothing and cost no backward MACs', () => {
    const w = work(cnn, SCHEMES.sparse);
    for (const node of ['conv1', 'dw1']) expect([w.get(node)!.backwardMacs, w.get(node)!.maskBytes, w.get(node)!.savedBytes], node).toEqual([0, 0, 0]);
  });
  it('a frozen layer between trainable ones propagates dx only', () => {
    const w = work(cnn, { weights: [{ layer: 'dw1', ratio: 1 }] }); // pw1, dw2, pw2 frozen between dw1 and fc
    for (const node of ['pw1', 'dw2', 'pw2']) {
      expect(counts(w.get(node)!), node).toEqual([1, 1, 0]);
      expect(w.get(node)!.savedBytes, node).toBe(0);
    }
  });
  it('a partial weight update keeps its whole input and computes only the selected output rows', () => {
    const w = work(cnn, SCHEMES.sparse);
    expect(w.get('pw1')!.savedBytes).toBe(14 * 14 * 8); // dw1's whole output 14x14x8 (an alias: kept alive, not copied)
    expect(w.get('pw1')!.backwardMacs).toBe((14 * 14 * 16 * 8) / 4); // weight gradient of 4 of 16 output channels
  });
  it('backward MACs shrink with the scheme', () => {
    const total = (r: TrainRecipe) => [...work(cnn, r).values()].reduce((n, x) => n + x.backwardMacs, 0);
    const macs = ['classifierOnly', 'sparse', 'full'].map((s) => total(SCHEMES[s]));
    expect(macs[0]).toBeLessThan(macs[1]);
    expect(macs[1]).toBeLessThan(macs[2]);
  });
  it('places each update right after its layer gradient, before the next layer down', () => {
    const plan = buildTrainStep(cnn, resolveRecipe(cnn, SCHEMES.full));
    const backwardNodes = plan.ops.filter((o) => o.kind !== 'forward' && o.kind !== 'loss').map((o) => o.node);
    const order = [...new Set(backwardNodes)];
    expect(order).toEqual(['fc', 'gap', 'pw2', 'dw2', 'pw1', 'dw1', 'conv1']);
    // Each node's backward ops are contiguous.
    for (const n of order) {
      const at = backwardNodes.flatMap((x, i) => (x === n ? [i] : []));
      expect(at[at.length - 1] - at[0] + 1, n).toBe(at.length);
    }
    expect(plan.buffers.filter((b) => b.category === Category.GRADIENT).every((b) => b.dtype === 'float32')).toBe(true);
  });
});

/** input 8x8x2 -> conv3x3 relu -> maxpool2 -> pw (linear) -> relu ; add(relu, maxpool) relu6 -> dw3x3 relu6 -> flatten -> fc 3 */
function residualGraph(seed: number): Graph {
  const b = new ModelBuilder('residual', [8, 8, 2]);
  const c = b.conv2d(b.input(), { filters: 4, kernel: 3, activation: 'relu', name: 'c1' });
  const m = b.maxPool(c, { pool: 2, name: 'mp' });
  const p = b.relu(b.pointwise(m, { filters: 4, name: 'p1' }), { name: 'r1' });
  const a = b.add(p, m, { activation: 'relu6', name: 'add' });
  const d = b.depthwise(a, { kernel: 3, activation: 'relu6', name: 'd1' });
  const f = b.fullyConnected(b.flatten(d, { name: 'flat' }), { units: 3, name: 'fc' });
  return b.build(f, new Random(seed));
}

describe('gradients of the pruned plan equal the fp32 engine backward', () => {
  const rng = new Random(11);
  const input = (g: Graph) => Float32Array.from({ length: g.nodes[0].shape.reduce((x, y) => x * y, 1) }, () => rng.uniform(-1, 1));
  const cases: [string, Graph, TrainRecipe][] = [
    ['cnn classifier only', cnn, SCHEMES.classifierOnly],
    ['cnn bias only', cnn, SCHEMES.biasOnly],
    ['cnn sparse (pw1 at 1/4)', cnn, SCHEMES.sparse],
    ['cnn full', cnn, SCHEMES.full],
    ['residual: c1 at 1/2 (through max pool, add, relu, flatten)', residualGraph(5), { weights: [{ layer: 'c1', ratio: 0.5 }] }],
    ['residual: p1 + d1 weights, fc frozen, mse', residualGraph(6), { classifier: false, weights: [{ layer: 'p1', ratio: 0.25 }, { layer: 'd1', ratio: 0.5 }], loss: 'mse' }],
    ['residual: everything', residualGraph(7), { weights: ['c1', 'p1', 'd1'].map((layer) => ({ layer, ratio: 1 as const })) }],
  ];
  for (const [what, graph, recipe] of cases) {
    it(what, () => {
      const resolved = resolveRecipe(graph, recipe);
      const plan = buildTrainStep(graph, resolved);
      const x = input(graph);
      const out = outputOf(forward(graph, x, 1));
      const target = recipe.loss === 'mse' ? Float32Array.from(out, (v) => v + rng.uniform(-1, 1)) : rng.int(0, out.length - 1);
      const step = runReferenceStep(graph, resolved, plan, x, target);
      const pass = forward(graph, x, 1);
      const lossGrad = typeof target === 'number' ? softmaxCrossEntropy(outputOf(pass), [target], out.length) : meanSquaredError(outputOf(pass), target);
      const engine = backward(pass, lossGrad.grad).params;
      expect(step.loss).toBeCloseTo(lossGrad.loss, 6);

      for (const l of resolved.layers) {
        const dw = step.grads.get(`${l.layer}/weight`);
        const db = step.grads.get(`${l.layer}/bias`);
        expect(dw !== undefined, `${what}: ${l.layer} weight gradient`).toBe(l.weightRatio > 0);
        expect(db !== undefined, `${what}: ${l.layer} bias gradient`).toBe(l.trainBias);
        if (db) expectClose(db, engine.get(`${l.layer}/bias`)!, `${what}: ${l.layer}/bias`);
        // The whole input is saved, so the whole weight gradient is exact (the update applies its selected rows).
        if (dw) expectClose(dw, engine.get(`${l.layer}/weight`)!, `${what}: ${l.layer}/weight (channels ${l.channels})`);
        // No backward work at all for layers whose gradient nothing needs.
        const calls = step.calls.get(l.layer)!;
        if (!l.trainBias && l.weightRatio === 0) expect(calls.update, `${what}: ${l.layer} update`).toBeUndefined();
      }
      const below = lowestTrained(graph, resolved.layers.filter((l) => l.trainBias || l.weightRatio > 0).map((l) => l.layer));
      for (const n of graph.nodes.slice(1, below)) {
        const c = step.calls.get(n.name)!;
        expect(Object.keys(c), `${what}: ${n.name} is below every trainable layer`).toEqual(['forward']);
      }
    });
  }
});

function lowestTrained(graph: Graph, trained: string[]): number {
  return Math.min(...trained.map((t) => graph.nodes.findIndex((n) => n.name === t)));
}

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const scale = Math.max(1e-6, ...Array.from(want, Math.abs));
  for (let i = 0; i < got.length; i++) {
    if (Math.abs(got[i] - want[i]) > 1e-5 * scale) expect.fail(`${what}: element ${i} is ${got[i]}, engine ${want[i]}`);
  }
}
