// Whole-model latency with group-sparse layers: MobileNetV1 (width 0.25, 96x96, random
// weights) and the reference CNN, their 1x1 and FC layers magnitude-pruned in 4x1 groups
// (one shot, no fine-tuning: this measures speed, not accuracy), dense vs the compiler's
// per-layer choice priced for each build. JSON lines like every benchmark.
import { pathToFileURL } from 'node:url';
import { mobilenetV1 } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { pruneLayers } from '../src/compiler/prune/layers.js';
import { groupMask } from '../src/compiler/prune/masks.js';
import type { Graph } from '../src/compiler/graph.js';
import { Model } from '../src/host/model.js';
import { Random } from '../src/host/random.js';
import type { Build } from '../src/host/runtime.js';
import { benchModel, type BenchLine } from '../targets/node/bench_model.js';
import { referenceGraph } from '../targets/node/reference.js';

/** Zeroes the weakest 4x1 groups (or the largest group size dividing outC) of every 1x1 / FC layer. */
function pruneOneShot(graph: Graph, sparsity: number): Graph {
  for (const layer of pruneLayers(graph, 'group', 4)) {
    const w = layer.node.weight.data;
    const mask = groupMask(w, layer.outC, layer.inC, layer.group, sparsity);
    for (let i = 0; i < w.length; i++) if (!mask[i]) w[i] = 0;
  }
  return graph;
}

export async function benchSparseModels(runs = 300): Promise<BenchLine[]> {
  const rng = new Random(11);
  const models: { name: string; graph: Graph; calibration: Float32Array }[] = [
    { name: 'mobilenet-v1-0.25-96', graph: mobilenetV1(1, 0.25, 96, 1000), calibration: Float32Array.from({ length: 4 * 96 * 96 * 3 }, () => rng.next()) },
    { name: 'reference-cnn', graph: referenceGraph('reference-cnn'), calibration: Float32Array.from({ length: 64 * 784 }, () => rng.next()) },
  ];
  const lines: BenchLine[] = [];
  for (const m of models) {
    for (const sparsity of [0, 0.7, 0.9]) {
      const q = quantizeGraph(pruneOneShot(m.graph, sparsity), m.calibration);
      for (const build of ['mvp', 'simd'] as Build[]) {
        for (const mode of ['never', 'auto'] as const) {
          if (sparsity === 0 && mode === 'auto') continue;
          const model = Model.compile(q, { sparse: mode, build });
          const sparseLayers = model.report!.sparse.filter((d) => d.sparse).length;
          const [line] = await benchModel(model, { builds: [build], runs: build === 'mvp' ? runs / 5 : runs, name: m.name });
          lines.push({ ...line, what: `${m.name}/inference/${mode === 'never' ? 'dense' : 'sparse-auto'}`, shape: `${(sparsity * 100).toFixed(0)}% of 1x1/FC groups zero; ${sparseLayers} sparse layers` });
        }
      }
    }
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await benchSparseModels()) console.log(JSON.stringify(line));
}
