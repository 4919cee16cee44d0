// Whole-model latency with group-sparse layers: MobileNetV1 (width 0.25, 96x96, random
// weights) and the reference CNN, their 1x1 and FC layers magnitude-pruned in gx1 groups
// (g = 4 and 8, or the largest group size dividing outC; one shot, no fine-tuning: this
// measures speed, not accuracy). For each build, the all-dense compilation and the compiler's
// per-layer choice (sparse: 'auto', priced for that build) of the same pruned weights are timed
// side by side, sample by sample, so both see the same machine load. JSON lines like every
// benchmark:
//   what "<model>/g<g>/inference/dense" | ".../sparse-auto"   unit us per Session.run (batch 1)
//   what "<model>/g<g>/inference/speedup"                      unit x (fastest dense sample /
//                                                              fastest sparse-auto sample)
// shape: the zero fraction of the pruned layers' groups and how many layers went sparse.
import { pathToFileURL } from 'node:url';
import { getDevice } from '../src/compiler/devices.js';
import { mobilenetV1 } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { pruneLayers } from '../src/compiler/prune/layers.js';
import { groupMask } from '../src/compiler/prune/masks.js';
import type { Graph } from '../src/compiler/graph.js';
import { Model } from '../src/host/model.js';
import { Random } from '../src/host/random.js';
import type { Build } from '../src/host/runtime.js';
import { Session } from '../src/host/session.js';
import { sampleInputs, type BenchLine } from '../targets/node/bench_model.js';
import { referenceGraph } from '../targets/node/reference.js';
import { timeSideBySide } from './kernels_sparse.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 21);

/** Zeroes the weakest gx1 groups (or the largest group size dividing outC) of every 1x1 / FC layer. */
function pruneOneShot(graph: Graph, g: 4 | 8, sparsity: number): Graph {
  for (const layer of pruneLayers(graph, 'group', g)) {
    const w = layer.node.weight.data;
    const mask = groupMask(w, layer.outC, layer.inC, layer.group, sparsity);
    for (let i = 0; i < w.length; i++) if (!mask[i]) w[i] = 0;
  }
  return graph;
}

export async function benchSparseModels(sampleMs = 20): Promise<BenchLine[]> {
  const rng = new Random(11);
  const models: { name: string; graph: () => Graph; calibration: Float32Array }[] = [
    { name: 'mobilenet-v1-0.25-96', graph: () => mobilenetV1(1, 0.25, 96, 1000), calibration: Float32Array.from({ length: 4 * 96 * 96 * 3 }, () => rng.next()) },
    { name: 'reference-cnn', graph: () => referenceGraph('reference-cnn'), calibration: Float32Array.from({ length: 64 * 784 }, () => rng.next()) },
  ];
  const device = getDevice('stm32f746');
  const lines: BenchLine[] = [];
  for (const m of models) {
    for (const g of [4, 8] as const) {
      for (const sparsity of [0.7, 0.9]) {
        const q = quantizeGraph(pruneOneShot(m.graph(), g, sparsity), m.calibration);
        for (const build of ['mvp', 'simd'] as Build[]) {
          const dense = Model.compile(q, { sparse: 'never', build });
          const auto = Model.compile(q, { sparse: 'auto', build });
          const sparseLayers = auto.report!.sparse.filter((d) => d.sparse).length;
          const sessions = [await Session.create(dense, { device, build }), await Session.create(auto, { device, build })];
          const inputs = sampleInputs(dense);
          const [d, s] = timeSideBySide(sessions.map((session) => () => void session.run(inputs)), SAMPLES, build === 'mvp' ? sampleMs * 5 : sampleMs);
          const us = (xs: number[]) => ({ median: xs[xs.length >> 1] * 1e6, min: xs[0] * 1e6, max: xs[xs.length - 1] * 1e6 });
          const shape = `${(sparsity * 100).toFixed(0)}% of 1x1/FC groups zero; ${sparseLayers} sparse layers`;
          const ratios = d.map((t, i) => t / s[i]).sort((a, b) => a - b);
          const what = `${m.name}/g${g}/inference`;
          lines.push({ what: `${what}/dense`, build, shape, ...us(d), unit: 'us' });
          lines.push({ what: `${what}/sparse-auto`, build, shape, ...us(s), unit: 'us' });
          lines.push({ what: `${what}/speedup`, build, shape, median: d[0] / s[0], min: ratios[0], max: ratios[ratios.length - 1], unit: 'x' });
        }
      }
    }
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await benchSparseModels()) console.log(JSON.stringify(line));
}
