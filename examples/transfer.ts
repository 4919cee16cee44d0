// Transfer learning on a simulated microcontroller: the reference CNN pretrained in fp32 on
// digits 0-4 (models/reference-cnn-digits0-4.json), quantized to int8, learns all ten digits
// (5-9 are new) with a sparse update on the device runtime (Trainer, a stm32f746 profile by
// default), against fp32 full fine-tuning of the same model on the host with the same
// stream, rates and schedule. Batch-1 SGD ends wherever the last samples leave it, so both
// run over several seeded data orders and the means are compared. Task and data:
// targets/node/transfer_task.ts. Prints a table, then one JSON line (fields: docs/training.md,
// "Transfer, ablation and scheme search").
//
//   npm run transfer -- [--device D] [--build mvp|simd] [--epochs N] [--orders N] [--search]
import { cliTable } from '../targets/node/table.js';
import { Command } from 'commander';
import { getDevice } from '../src/compiler/devices.js';
import { graphOfQModel } from '../src/compiler/train/qmodel_graph.js';
import { measureContributions, searchScheme, describeScheme } from '../src/compiler/train/scheme_search.js';
import { Session } from '../src/host/session.js';
import { Model } from '../src/host/model.js';
import type { Build } from '../src/host/runtime.js';
import type { LabeledSet } from '../src/host/datasets/mnist.js';
import {
  accuracyOf, deviceFineTune, estimateStepLatency, fp32FineTune, pretrainedGraph, quantizePretrained, searchSplit, transferData,
  SRAM_TARGET_BYTES, TRANSFER_DECAY as DECAY, TRANSFER_EPOCHS, TRANSFER_RECIPE, type Accuracy, type DeviceRun,
} from '../targets/node/transfer_task.js';

const o = new Command()
  .option('-d, --device <name>', 'device profile', 'stm32f746')
  .option('-b, --build <build>', 'executor build: auto, mvp or simd', 'auto')
  .option('-e, --epochs <n>', `passes over the stream (the rate x${DECAY} after each)`, String(TRANSFER_EPOCHS))
  .option('-n, --orders <n>', 'seeded data orders to average over', '3')
  .option('--search', `choose the scheme by scheme search under ${SRAM_TARGET_BYTES} B (host fp32 proxy runs)`)
  .parse()
  .opts<{ device: string; build: Build | 'auto'; epochs: string; orders: string; search?: boolean }>();

const started = performance.now();
const device = getDevice(o.device);
const epochs = Number(o.epochs);
const orders = [...Array(Number(o.orders)).keys()];
const data = transferData();
const graph = pretrainedGraph(data);
const qmodel = quantizePretrained(graph, data);

let recipe = TRANSFER_RECIPE;
if (o.search) {
  const contributions = measureContributions(qmodel, {
    ...searchSplit(data), learningRate: TRANSFER_RECIPE.learningRate!.weight, onRun: (label, i, n) => console.error(`scheme search: run ${i + 1}/${n} (${label})`),
  });
  const choice = searchScheme(qmodel, contributions, { device, budgetBytes: SRAM_TARGET_BYTES });
  recipe = { ...TRANSFER_RECIPE, ...choice.recipe };
  console.error(`scheme search chose: ${choice.label} (expected gain ${(100 * choice.expectedGain).toFixed(2)} points, ${choice.memory.arenaBytes} B)`);
}

const before = await int8Accuracy(qmodel, data.test, o.build);
const runs: DeviceRun[] = [];
const fp32: Accuracy[] = [];
for (const order of orders) {
  runs.push(await deviceFineTune(qmodel, recipe, data, {
    device, build: o.build, epochs, decay: DECAY, order,
    onEpoch: (e, loss, a) => console.error(`order ${order}, device epoch ${e}: mean loss ${loss.toFixed(4)}, held-out ${pct(a.all)} (0-4 ${pct(a.old)}, 5-9 ${pct(a.new)})`),
  }));
  fp32.push(fp32FineTune(graphOfQModel(qmodel).graph, data, { epochs, learningRate: recipe.learningRate!.weight, decay: DECAY, order }));
  console.error(`order ${order}: int8 ${pct(runs[order].accuracy.all)}, fp32 ${pct(fp32[order].all)}`);
}
const int8Mean = meanAccuracy(runs.map((r) => r.accuracy));
const fp32Mean = meanAccuracy(fp32);
const run = runs[0];
const latency = estimateStepLatency(qmodel, recipe, device);
const scheme = describeScheme({ biasLastK: recipe.biasLastK ?? 0, weights: recipe.weights ?? [] });

const table = cliTable({ head: ['model', 'trains', `held-out 0-9 (mean of ${orders.length})`, 'per data order', '0-4', '5-9', 'planned SRAM', 'measured SRAM', 'est. step'] });
table.push(['int8, pretrained on 0-4', 'nothing', pct(before.all), '', pct(before.old), pct(before.new), '', '', '']);
table.push([`int8 on ${device.name} (${run.build}), ${recipe.rounding ?? 'stochastic'} rounding`, scheme, pct(int8Mean.all), runs.map((r) => pct(r.accuracy.all)).join(', '), pct(int8Mean.old), pct(int8Mean.new),
  `${run.memory.plannedBytes} B`, `${run.memory.highWaterBytes} B`, `${(latency.totalUs / 1000).toFixed(1)} ms`]);
table.push(['fp32 on the host', 'everything', pct(fp32Mean.all), fp32.map((a) => pct(a.all)).join(', '), pct(fp32Mean.old), pct(fp32Mean.new), '', '', '']);
console.log(table.toString());
const gap = fp32Mean.all - int8Mean.all;
console.log(`int8 sparse update vs fp32 full fine-tuning (means over ${orders.length} data orders): ${gap > 0 ? '-' : '+'}${(100 * Math.abs(gap)).toFixed(2)} points; planned SRAM ${run.memory.plannedBytes} B (${run.memory.plannedBytes <= SRAM_TARGET_BYTES ? 'within' : 'over'} ${SRAM_TARGET_BYTES} B)`);
console.log(JSON.stringify({
  example: 'transfer', model: graph.name, device: device.name, build: run.build, epochs, decay: DECAY, orders: orders.length,
  streamSamples: data.stream.count, testSamples: data.test.count, recipe, scheme,
  int8Pretrained: before, int8Sparse: int8Mean, fp32Full: fp32Mean, gapPoints: +(100 * gap).toFixed(2),
  perOrder: orders.map((order) => ({ order, int8: runs[order].accuracy.all, fp32: fp32[order].all })),
  epochLosses: run.losses.map((l) => +l.toFixed(4)),
  plannedSramBytes: run.memory.plannedBytes, measuredSramBytes: run.memory.highWaterBytes, sramTargetBytes: SRAM_TARGET_BYTES,
  fitsTarget: run.memory.plannedBytes <= SRAM_TARGET_BYTES, containerBytes: run.memory.flashBytes,
  stepLatencyUs: { forward: +latency.forwardUs.toFixed(0), backward: +latency.backwardUs.toFixed(0), total: +latency.totalUs.toFixed(0) },
  backwardMacs: latency.backwardMacs, seconds: +((performance.now() - started) / 1000).toFixed(1),
}));

function meanAccuracy(list: Accuracy[]): Accuracy {
  const mean = (f: (a: Accuracy) => number) => list.reduce((s, a) => s + f(a), 0) / list.length;
  return { all: mean((a) => a.all), old: mean((a) => a.old), new: mean((a) => a.new) };
}

async function int8Accuracy(q: typeof qmodel, test: LabeledSet, build: Build | 'auto'): Promise<Accuracy> {
  const session = await Session.create(Model.compile(q, { sparse: 'never' }), { device, build });
  const size = test.images.length / test.count;
  const correct = (s: LabeledSet) => {
    let n = 0;
    for (let i = 0; i < s.count; i++) {
      const [out] = session.run(s.images.subarray(i * size, (i + 1) * size));
      let best = 0;
      for (let c = 1; c < out.length; c++) if (out[c] > out[best]) best = c;
      if (best === s.labels[i]) n++;
    }
    return n;
  };
  return accuracyOf(correct, test);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}
