// The train-step memory table of "On-Device Training Under 256KB Memory" (Lin et al. 2022),
// planned and measured by Sparrow: MobileNetV2-w0.35 at 128x128x3, batch 1, on the anchor's
// memory task: Visual Wake Words (2 classes) on an STM32F746 (`--classes N` for another head,
// e.g. 102 for Flowers-102). Random weights (memory does not depend on their values, except for
// which channels a partial update selects), quantized by the existing PTQ.
//
// Every row is a real train-step container (lowerTrainStep) taking an int8 sample, as the
// anchor's camera input, once with the frozen expand -> depthwise pairs run as two ops (the
// expanded tensor whole) and once streamed row by row (EXPAND_DEPTHWISE). The streamed
// containers that fit the board's budget are loaded into the training executor under that
// budget and run a few steps on random int8 samples; their measured high-water mark is printed
// next to the plan's. Nothing here is measured on a board.
//
//   npx tsx examples/tte-256kb.ts [--classes N] [--steps N]
//
// Prints a table, then one JSON line (field names in docs/training.md).

import { getDevice, sramBudget } from '../src/compiler/devices.js';
import { lowerModel } from '../src/compiler/lower.js';
import { mobilenetV2 } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { lowerTrainStep, type TrainStepReport } from '../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../src/compiler/train/recipe.js';
import { biasOnly, classifierOnly, fullUpdate, lastKLayers, mobilenetV2Sparse } from '../src/compiler/train/schemes.js';
import { writeContainer } from '../src/formats/container.js';
import type { QModel } from '../src/formats/qmodel.js';
import { Random } from '../src/host/random.js';
import { Trainer } from '../src/host/trainer.js';

const ALPHA = 0.35;
const RESOLUTION = 128;
const CLASSES = intArg(process.argv.slice(2), '--classes', 2);
const STEPS = intArg(process.argv.slice(2), '--steps', 3);
const KB = 1024;
const PAPER = { sparseKB: 149, pytorchFullUpdateMB: 303, board: 'stm32f746', task: 'Visual Wake Words (2 classes)' };

const graph = mobilenetV2(1, ALPHA, RESOLUTION, CLASSES);
const device = getDevice(PAPER.board);
const budget = sramBudget(device);
const qmodel = quantized();

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

/** What the executor measured after `STEPS` steps of a streamed container within the budget. */
interface Measured { highWaterBytes: number; plannedHighWaterBytes: number; byCategory: Record<string, number>; build: string; losses: number[] }

const rows: { scheme: string; whole: TrainStepReport; streamed: TrainStepReport; flashBytes: number; measured?: Measured }[] = [];
for (const [scheme, recipe] of schemes) {
  const whole = lowerTrainStep(qmodel, recipe, { input: 'int8', fuse: 'never' }).report;
  const { report: streamed, container } = lowerTrainStep(qmodel, recipe, { input: 'int8', fuse: 'always' });
  const measured = streamed.arenaBytes <= budget ? await measure(recipe) : undefined;
  rows.push({ scheme, whole, streamed, flashBytes: writeContainer(container).length, measured });
}
const floor = { whole: rows[0].whole.arenaBytes, streamed: rows[0].streamed.arenaBytes };

const kb = (b: number) => (b / KB).toFixed(1);
const header = ['scheme', 'whole KiB', 'streamed KiB', 'pairs', 'over fwd KiB', 'trainable', 'saved', 'masks', 'grads', 'scratch', `fits ${device.name} (${kb(budget)})`, '<= 256 KiB', 'high water planned B', 'measured B', 'peak op (streamed)'];
const table = rows.map(({ scheme, whole, streamed: r, measured }) => {
  const peaks = r.memory.categoryPeaks;
  return [
    scheme, kb(whole.arenaBytes), kb(r.arenaBytes), String(r.opCounts.EXPAND_DEPTHWISE ?? 0), kb(r.arenaBytes - floor.streamed), kb(peaks.TRAINABLE ?? 0), kb(peaks.SAVED_ACTIVATION ?? 0),
    kb(peaks.MASK ?? 0), kb(peaks.GRADIENT ?? 0), kb(peaks.SCRATCH ?? 0), r.arenaBytes <= budget ? 'yes' : 'no', r.arenaBytes <= 256 * KB ? 'yes' : 'no',
    String(r.highWaterBytes), measured ? String(measured.highWaterBytes) : '-', r.peakOpLabel,
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`MobileNetV2-w${ALPHA} ${RESOLUTION}x${RESOLUTION}x3, ${CLASSES} classes, batch 1, int8 sample: SRAM arena of one train-step container, expand -> depthwise pairs whole and streamed (category columns: peak KiB of each, streamed); measured: the training executor's high-water mark after ${STEPS} steps under the ${device.name} budget (${rows.find((r) => r.measured)?.measured?.build ?? '-'} build)`);
console.log(line(header));
for (const row of table) console.log(line(row));
console.log(`forward floor (nothing trains): ${kb(floor.whole)} KiB with the expanded tensors whole, ${kb(floor.streamed)} KiB streamed`);
const mismatched = rows.filter((r) => r.measured && r.measured.highWaterBytes !== r.measured.plannedHighWaterBytes);
if (mismatched.length) console.log(`MEASURED != PLANNED: ${mismatched.map((r) => r.scheme).join('; ')}`);

const floatSparse = lowerTrainStep(qmodel, schemes[4][1], { fuse: 'always' }).report;
console.log(`sparse scheme with a float32 sample (quantized on the device): ${kb(floatSparse.arenaBytes)} KiB streamed (peak ${floatSparse.peakOpLabel})`);
const inference = (['float32', 'int8'] as const).flatMap((input) => (['never', 'always'] as const).map((fuse) => inferenceArena(qmodel, input, fuse)));
console.log(`inference: ${inference.map((r) => `${r.input} input ${r.fuse === 'never' ? 'whole' : 'streamed'} ${kb(r.arenaBytes)} KiB`).join('; ')}`);
console.log(`paper (Lin et al. 2022, not measured here): sparse update ${PAPER.sparseKB} KB on ${PAPER.board}, ${PAPER.task}; PyTorch full update at batch 1: ${PAPER.pytorchFullUpdateMB} MB`);
const sparse = rows[4].streamed.memory;
console.log(`sparse scheme peak (streamed) ${sparse.peakOpLabel}: ${sparse.liveAtPeak.slice(0, 5).map((b) => `${b.name} ${b.bytes} B`).join(', ')}`);

const json = (r: TrainStepReport) => ({ arenaBytes: r.arenaBytes, highWaterBytes: r.highWaterBytes, peakOp: r.peakOpLabel, breakdown: r.memory.breakdown, categoryPeaks: r.memory.categoryPeaks });
console.log(JSON.stringify({
  model: graph.name, classes: CLASSES, resolution: RESOLUTION, input: 'int8', device: device.name, sramBudgetBytes: budget, steps: STEPS,
  forwardFloorBytes: floor,
  floatSampleSparseBytes: floatSparse.arenaBytes,
  inferenceArenaBytes: Object.fromEntries(inference.map((r) => [`${r.input}/${r.fuse === 'never' ? 'whole' : 'streamed'}`, r.arenaBytes])),
  rows: rows.map(({ scheme, whole, streamed, flashBytes, measured }) => ({
    scheme, streamedPairs: streamed.opCounts.EXPAND_DEPTHWISE ?? 0, whole: json(whole), streamed: json(streamed), overForwardBytes: streamed.arenaBytes - floor.streamed,
    flashBytes, fitsDevice: streamed.arenaBytes <= budget, within256KiB: streamed.arenaBytes <= 256 * KB,
    measured: measured ?? null,
  })),
  paper: PAPER,
}));

/** `name N` (a positive integer), else `fallback`. */
function intArg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer, got '${args[i + 1]}'`);
  return n;
}

/** The model through the existing PTQ (random calibration data). */
function quantized(): QModel {
  const rng = new Random(2);
  const samples = 2;
  const calibration = Float32Array.from({ length: samples * RESOLUTION * RESOLUTION * 3 }, () => rng.next());
  return quantizeGraph(graph, calibration, { batchSize: samples, percentile: 100 });
}

/** Loads the streamed int8 step into the training executor under the device's budget and runs `STEPS` steps on random int8 samples. */
async function measure(recipe: TrainRecipe): Promise<Measured> {
  const trainer = await Trainer.create(qmodel, recipe, { device, input: 'int8', fuse: 'always' });
  const rng = new Random(7);
  const size = RESOLUTION * RESOLUTION * 3;
  const losses = Array.from({ length: STEPS }, (_, i) => trainer.step(Int8Array.from({ length: size }, () => rng.int(-128, 127)), i % CLASSES));
  const m = trainer.memory();
  return { highWaterBytes: m.highWaterBytes, plannedHighWaterBytes: m.plannedHighWaterBytes, byCategory: m.byCategory, build: trainer.build, losses };
}

/** The inference arena of the quantized model, float32 or int8 input, pairs whole or streamed. */
function inferenceArena(q: QModel, input: 'float32' | 'int8', fuse: 'never' | 'always'): { input: string; fuse: string; arenaBytes: number } {
  return { input, fuse, arenaBytes: lowerModel(q, { fuse, input }).report.plan.arenaBytes };
}
