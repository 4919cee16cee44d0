// The train-step memory table of "On-Device Training Under 256KB Memory" (Lin et al. 2022),
// planned by Sparrow: MobileNetV2-w0.35 at 128x128x3, batch 1, on the anchor's memory task:
// Visual Wake Words (2 classes) on an STM32F746 (`--classes N` for another head, e.g. 102 for
// Flowers-102). Random weights (memory does not depend on their values, except for which
// channels a partial update selects). Every SRAM figure is Sparrow's exact arena plan for one
// train step (docs/training.md), with the frozen expand -> depthwise pairs run as they are
// (the expanded tensor whole) and streamed row by row (EXPAND_DEPTHWISE); nothing here is
// measured on a board.
//
//   npx tsx examples/tte-256kb.ts [--classes N]
//
// Prints a table, then one JSON line (field names in docs/training.md).

import { getDevice, sramBudget } from '../src/compiler/devices.js';
import { lowerModel } from '../src/compiler/lower.js';
import { chooseStepFusion } from '../src/compiler/lower_fuse_train.js';
import { mobilenetV2 } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { buildTrainStep } from '../src/compiler/train/autodiff.js';
import { resolveRecipe, type TrainRecipe } from '../src/compiler/train/recipe.js';
import { biasOnly, classifierOnly, fullUpdate, lastKLayers, mobilenetV2Sparse } from '../src/compiler/train/schemes.js';
import type { TrainMemoryReport } from '../src/compiler/train/train_memory.js';
import type { QModel } from '../src/formats/qmodel.js';
import { Random } from '../src/host/random.js';

const ALPHA = 0.35;
const RESOLUTION = 128;
const CLASSES = classesArg(process.argv.slice(2), 2);
const KB = 1024;
const PAPER = { sparseKB: 149, pytorchFullUpdateMB: 303, board: 'stm32f746', task: 'Visual Wake Words (2 classes)' };

const graph = mobilenetV2(1, ALPHA, RESOLUTION, CLASSES);
const device = getDevice(PAPER.board);
const budget = sramBudget(device);

const schemes: [string, TrainRecipe][] = [
  ['forward + loss (nothing trains)', { classifier: false }],
  ['classifier only', classifierOnly()],
  ['bias only, last 10 layers', biasOnly(graph, 10)],
  ['bias only, all 52 layers', biasOnly(graph)],
  ['sparse (biases last 10, expand b15-17 at 1/8, 1/4, 1/2)', mobilenetV2Sparse()],
  ['last 7 layers (blocks 16-17 + conv_last)', lastKLayers(graph, 7)],
  ['last 13 layers (blocks 14-17 + conv_last)', lastKLayers(graph, 13)],
  ['full update', fullUpdate(graph)],
];

const rows = schemes.map(([scheme, recipe]) => {
  const resolved = resolveRecipe(graph, recipe);
  const plan = buildTrainStep(graph, resolved);
  const whole = chooseStepFusion(graph, resolved, plan, 'never');
  const streamed = chooseStepFusion(graph, resolved, plan, 'always');
  return { scheme, whole: whole.memory, streamed: streamed.memory, pairs: streamed.expanded.length };
});
const floor = { whole: rows[0].whole.arenaBytes, streamed: rows[0].streamed.arenaBytes };

const kb = (b: number) => (b / KB).toFixed(1);
const header = ['scheme', 'whole KiB', 'streamed KiB', 'pairs', 'over fwd KiB', 'trainable', 'saved', 'masks', 'grads', 'scratch', `fits ${device.name} (${kb(budget)})`, '<= 256 KiB', 'peak op (streamed)'];
const table = rows.map(({ scheme, whole, streamed: r, pairs }) => [
  scheme, kb(whole.arenaBytes), kb(r.arenaBytes), String(pairs), kb(r.arenaBytes - floor.streamed), kb(r.categoryPeaks.TRAINABLE ?? 0), kb(r.categoryPeaks.SAVED_ACTIVATION ?? 0),
  kb(r.categoryPeaks.MASK ?? 0), kb(r.categoryPeaks.GRADIENT ?? 0), kb(r.categoryPeaks.SCRATCH ?? 0), r.arenaBytes <= budget ? 'yes' : 'no', r.arenaBytes <= 256 * KB ? 'yes' : 'no', r.peakOpLabel,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`MobileNetV2-w${ALPHA} ${RESOLUTION}x${RESOLUTION}x3, ${CLASSES} classes, batch 1: planned SRAM arena of one train step, expand -> depthwise pairs whole and streamed (category columns: peak KiB of each, streamed)`);
console.log(line(header));
for (const row of table) console.log(line(row));
console.log(`forward floor (nothing trains): ${kb(floor.whole)} KiB with the expanded tensors whole, ${kb(floor.streamed)} KiB streamed`);

const qmodel = quantized();
const inference = (['never', 'always'] as const).map((fuse) => inferenceArena(qmodel, fuse));
console.log(`inference, fp32 input + quantize op: ${inference.map((r) => `${kb(r.arenaBytes)} KiB ${r.fuse === 'never' ? 'whole' : 'streamed'} (peak ${r.peak})`).join('; ')}`);
console.log(`paper (Lin et al. 2022, not measured here): sparse update ${PAPER.sparseKB} KB on ${PAPER.board}, ${PAPER.task}; PyTorch full update at batch 1: ${PAPER.pytorchFullUpdateMB} MB`);
const sparse = rows[4].streamed;
console.log(`sparse scheme peak (streamed) ${sparse.peakOpLabel}: ${sparse.liveAtPeak.slice(0, 5).map((b) => `${b.name} ${b.bytes} B`).join(', ')}`);

const json = (r: TrainMemoryReport) => ({ arenaBytes: r.arenaBytes, peakOp: r.peakOpLabel, breakdown: r.breakdown, categoryPeaks: r.categoryPeaks });
console.log(JSON.stringify({
  model: graph.name, classes: CLASSES, resolution: RESOLUTION, device: device.name, sramBudgetBytes: budget,
  forwardFloorBytes: floor,
  inferenceArenaBytes: Object.fromEntries(inference.map((r) => [r.fuse === 'never' ? 'whole' : 'streamed', r.arenaBytes])),
  rows: rows.map(({ scheme, whole, streamed, pairs }) => ({
    scheme, streamedPairs: pairs, whole: json(whole), streamed: json(streamed), overForwardBytes: streamed.arenaBytes - floor.streamed,
    flashBytes: streamed.flash.total, fitsDevice: streamed.arenaBytes <= budget, within256KiB: streamed.arenaBytes <= 256 * KB,
  })),
  paper: PAPER,
}));

/** `--classes N` (a positive integer), else `fallback`. */
function classesArg(args: string[], fallback: number): number {
  const i = args.indexOf('--classes');
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--classes needs a positive integer, got '${args[i + 1]}'`);
  return n;
}

/** The model through the existing PTQ (random calibration data). */
function quantized(): QModel {
  const rng = new Random(2);
  const samples = 2;
  const calibration = Float32Array.from({ length: samples * RESOLUTION * RESOLUTION * 3 }, () => rng.next());
  return quantizeGraph(graph, calibration, { batchSize: samples, percentile: 100 });
}

/** The inference arena of the quantized model, pairs whole or streamed. */
function inferenceArena(q: QModel, fuse: 'never' | 'always'): { fuse: string; arenaBytes: number; peak: string } {
  const { report } = lowerModel(q, { fuse });
  return { fuse, arenaBytes: report.plan.arenaBytes, peak: `op ${report.plan.peakOp}: ${report.plan.peakBuffers.map((b) => `${b.name} ${b.bytes} B`).join(', ')}` };
}
