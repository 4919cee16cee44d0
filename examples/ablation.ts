// Ablation of the transfer task (examples/transfer.ts, targets/node/transfer_task.ts): the same
// int8 sparse update on the device runtime with quantization-aware scaling (QAS) on and off,
// and with stochastic and nearest rounding of the int8 weight updates. Prints a table, then
// one JSON line (fields: docs/training.md, "Transfer, ablation and scheme search").
//
// QAS off is the recipe field `qas: false` (the update ops' UPDATE_FLAGS bit 1, docs/format.md).
//
//   npm run ablation -- [--device D] [--build mvp|simd] [--epochs N]
import { cliTable } from '../targets/node/table.js';
import { Command } from 'commander';
import { getDevice } from '../src/compiler/devices.js';
import { parseRecipe, type Rounding, type TrainRecipe } from '../src/compiler/train/recipe.js';
import { RecipeError } from '../src/formats/errors.js';
import type { Build } from '../src/host/runtime.js';
import {
  deviceFineTune, pretrainedGraph, quantizePretrained, transferData, TRANSFER_DECAY, TRANSFER_RECIPE, type Accuracy,
} from '../targets/node/transfer_task.js';

const o = new Command()
  .option('-d, --device <name>', 'device profile', 'stm32f746')
  .option('-b, --build <build>', 'executor build: auto, mvp or simd', 'auto')
  .option('-e, --epochs <n>', 'passes over the stream (the rate halves after each)', '3')
  .parse()
  .opts<{ device: string; build: Build | 'auto'; epochs: string }>();

/** True when the recipe format has the `qas` switch. */
function recipeHasQasFlag(): boolean {
  try {
    parseRecipe({ qas: false });
    return true;
  } catch (e) {
    if (e instanceof RecipeError) return false;
    throw e;
  }
}

interface Row {
  qas: boolean;
  rounding: Rounding;
  available: boolean;
  accuracy?: Accuracy;
  epochLosses?: number[];
}

const started = performance.now();
const device = getDevice(o.device);
const epochs = Number(o.epochs);
const data = transferData();
const qmodel = quantizePretrained(pretrainedGraph(data), data);
const hasQas = recipeHasQasFlag();
const rows: Row[] = [];
for (const qas of [true, false]) {
  for (const rounding of ['stochastic', 'nearest'] as const) {
    if (!qas && !hasQas) {
      rows.push({ qas, rounding, available: false });
      continue;
    }
    // written only when off, so the recipe stays valid where the field does not exist yet
    const recipe = { ...TRANSFER_RECIPE, rounding, ...(qas ? {} : { qas: false }) } as TrainRecipe;
    const run = await deviceFineTune(qmodel, recipe, data, { device, build: o.build, epochs, decay: TRANSFER_DECAY });
    console.error(`QAS ${qas ? 'on' : 'off'}, ${rounding} rounding: ${pct(run.accuracy.all)}`);
    rows.push({ qas, rounding, available: true, accuracy: run.accuracy, epochLosses: run.losses.map((l) => +l.toFixed(4)) });
  }
}

const table = cliTable({ head: ['QAS', 'rounding', 'held-out 0-9', '0-4', '5-9', 'loss per epoch'] });
for (const r of rows) {
  table.push(r.accuracy
    ? [r.qas ? 'on' : 'off', r.rounding, pct(r.accuracy.all), pct(r.accuracy.old), pct(r.accuracy.new), r.epochLosses!.join(' → ')]
    : [r.qas ? 'on' : 'off', r.rounding, { colSpan: 4, content: 'not available: the recipe has no `qas` field yet' }]);
}
console.log(table.toString());
const on = rows.find((r) => r.qas && r.rounding === 'stochastic')!.accuracy!;
const off = rows.find((r) => !r.qas && r.rounding === 'stochastic')!.accuracy;
console.log(off ? `QAS on vs off (stochastic rounding): ${points(on.all - off.all)} points` : 'QAS on vs off: not measured (no recipe flag)');
console.log(JSON.stringify({
  example: 'ablation', model: 'reference-cnn', device: device.name, build: o.build, epochs, decay: TRANSFER_DECAY, recipe: TRANSFER_RECIPE,
  qasFlag: hasQas, rows, qasGainPoints: off ? +(100 * (on.all - off.all)).toFixed(2) : null,
  seconds: +((performance.now() - started) / 1000).toFixed(1),
}));

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function points(x: number): string {
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
}
