// The train-step memory table of "On-Device Training Under 256KB Memory" (Lin et al. 2022),
// planned by Sparrow: MobileNetV2-w0.35 at 128x128x3, batch 1, 102 classes (Flowers-102, the
// anchor's transfer-learning task), random weights (memory does not depend on their values,
// except for which channels a partial update selects). Every SRAM figure is Sparrow's exact
// arena plan for one train step (docs/training.md); nothing here is measured on a board.
//
//   npx tsx examples/tte-256kb.ts
//
// Prints a table, then one JSON line (field names in docs/training.md).

import { getDevice, sramBudget } from '../src/compiler/devices.js';
import { lowerModel } from '../src/compiler/lower.js';
import { mobilenetV2 } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { buildTrainStep } from '../src/compiler/train/autodiff.js';
import { resolveRecipe, type TrainRecipe } from '../src/compiler/train/recipe.js';
import { biasOnly, classifierOnly, fullUpdate, lastKLayers, mobilenetV2Sparse } from '../src/compiler/train/schemes.js';
import { planTrainMemory } from '../src/compiler/train/train_memory.js';
import { Random } from '../src/host/random.js';

const ALPHA = 0.35;
const RESOLUTION = 128;
const CLASSES = 102;
const KB = 1024;
const PAPER = { sparseKB: 149, pytorchFullUpdateMB: 303, board: 'stm32f746' };

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
  return { scheme, report: planTrainMemory(graph, resolved, buildTrainStep(graph, resolved)) };
});
const floor = rows[0].report.arenaBytes;

const inference = inferenceArena();

const kb = (b: number) => (b / KB).toFixed(1);
const header = ['scheme', 'arena KiB', 'over fwd KiB', 'trainable', 'saved', 'masks', 'grads', `fits ${device.name} (${kb(budget)})`, '<= 256 KiB', 'peak op'];
const table = rows.map(({ scheme, report: r }) => [
  scheme, kb(r.arenaBytes), kb(r.arenaBytes - floor), kb(r.categoryPeaks.TRAINABLE ?? 0), kb(r.categoryPeaks.SAVED_ACTIVATION ?? 0),
  kb(r.categoryPeaks.MASK ?? 0), kb(r.categoryPeaks.GRADIENT ?? 0), r.arenaBytes <= budget ? 'yes' : 'no', r.arenaBytes <= 256 * KB ? 'yes' : 'no', r.peakOpLabel,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`MobileNetV2-w${ALPHA} ${RESOLUTION}x${RESOLUTION}x3, ${CLASSES} classes, batch 1: planned SRAM arena of one train step (category columns: peak KiB of each)`);
console.log(line(header));
for (const row of table) console.log(line(row));
if (inference) console.log(`inference, existing lowering (fp32 input + quantize op): ${kb(inference.arenaBytes)} KiB, peak at ${inference.peak}`);
console.log(`paper (Lin et al. 2022, not measured here): sparse update ${PAPER.sparseKB} KB on ${PAPER.board}; PyTorch full update at batch 1: ${PAPER.pytorchFullUpdateMB} MB`);
const sparse = rows[4].report;
console.log(`sparse scheme peak ${sparse.peakOpLabel}: ${sparse.liveAtPeak.slice(0, 4).map((b) => `${b.name} ${b.bytes} B`).join(', ')}`);

console.log(JSON.stringify({
  model: graph.name, classes: CLASSES, resolution: RESOLUTION, device: device.name, sramBudgetBytes: budget,
  inferenceArenaBytes: inference?.arenaBytes ?? null,
  rows: rows.map(({ scheme, report: r }) => ({
    scheme, arenaBytes: r.arenaBytes, overForwardBytes: r.arenaBytes - floor, peakOp: r.peakOpLabel,
    breakdown: r.breakdown, categoryPeaks: r.categoryPeaks, flashBytes: r.flash.total, fitsDevice: r.arenaBytes <= budget,
  })),
  paper: PAPER,
}));

/** The inference arena of the same model through the existing PTQ + lowering (random calibration data). */
function inferenceArena(): { arenaBytes: number; peak: string } | undefined {
  const rng = new Random(2);
  const samples = 2;
  const calibration = Float32Array.from({ length: samples * RESOLUTION * RESOLUTION * 3 }, () => rng.next());
  const { report } = lowerModel(quantizeGraph(graph, calibration, { batchSize: samples, percentile: 100 }));
  return { arenaBytes: report.plan.arenaBytes, peak: `op ${report.plan.peakOp} (${report.plan.peakBuffers.map((b) => `${b.name} ${b.bytes} B`).join(', ')})` };
}
