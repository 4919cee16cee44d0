// Ablation of the transfer task (examples/transfer.ts, targets/node/transfer_task.ts): the same
// int8 sparse update on the device runtime with quantization-aware scaling (QAS) on and off,
// and with stochastic, nearest and carry rounding of the int8 weight updates (data order 0).
// Prints a table, then one JSON line (fields: docs/training.md, "Transfer, ablation and scheme
// search").
//
// QAS off is the recipe field `qas: false` (the update ops' UPDATE_FLAGS bit 1, docs/format.md).
//
//   npm run ablation -- [--device D] [--build mvp|simd] [--epochs N]
import { cliTable } from '../targets/node/table.js';
import { Command } from 'commander';
import { getDevice } from '../src/compiler/devices.js';
import type { Rounding, TrainRecipe } from '../src/compiler/train/recipe.js';
import type { Build } from '../src/host/runtime.js';
import {
  deviceFineTune, pretrainedGraph, quantizePretrained, transferData, TRANSFER_DECAY, TRANSFER_EPOCHS, TRANSFER_RECIPE, type Accuracy,
} from '../targets/node/transfer_task.js';

const o = new Command()
  .option('-d, --device <name>', 'device profile', 'stm32f746')
  .option('-b, --build <build>', 'executor build: auto, mvp or simd', 'auto')
  .option('-e, --epochs <n>', `passes over the stream (the rate x${TRANSFER_DECAY} after each)`, String(TRANSFER_EPOCHS))
  .parse()
  .opts<{ device: string; build: Build | 'auto'; epochs: string }>();

interface Row {
  qas: boolean;
  rounding: Rounding;
  accuracy: Accuracy;
  epochLosses: number[];
}

const started = performance.now();
const device = getDevice(o.device);
const epochs = Number(o.epochs);
const data = transferData();
const qmodel = quantizePretrained(pretrainedGraph(data), data);
const rows: Row[] = [];
for (const qas of [true, false]) {
  for (const rounding of ['stochastic', 'nearest', 'carry'] as const) {
    const recipe: TrainRecipe = { ...TRANSFER_RECIPE, rounding, qas };
    const run = await deviceFineTune(qmodel, recipe, data, { device, build: o.build, epochs, decay: TRANSFER_DECAY });
    console.error(`QAS ${qas ? 'on' : 'off'}, ${rounding} rounding: ${pct(run.accuracy.all)}`);
    rows.push({ qas, rounding, accuracy: run.accuracy, epochLosses: run.losses.map((l) => +l.toFixed(4)) });
  }
}

const table = cliTable({ head: ['QAS', 'rounding', 'held-out 0-9', '0-4', '5-9', 'loss per epoch'] });
for (const r of rows) table.push([r.qas ? 'on' : 'off', r.rounding, pct(r.accuracy.all), pct(r.accuracy.old), pct(r.accuracy.new), r.epochLosses.join(' → ')]);
console.log(table.toString());
const gain = (rounding: Rounding) => rows.find((r) => r.qas && r.rounding === rounding)!.accuracy.all - rows.find((r) => !r.qas && r.rounding === rounding)!.accuracy.all;
console.log(`QAS on vs off: ${points(gain('stochastic'))} points (stochastic rounding), ${points(gain('carry'))} points (carry rounding)`);
console.log(JSON.stringify({
  example: 'ablation', model: 'reference-cnn', device: device.name, build: o.build, epochs, decay: TRANSFER_DECAY, recipe: TRANSFER_RECIPE,
  rows, qasGainPoints: { stochastic: +(100 * gain('stochastic')).toFixed(2), carry: +(100 * gain('carry')).toFixed(2) },
  seconds: +((performance.now() - started) / 1000).toFixed(1),
}));

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function points(x: number): string {
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
}
