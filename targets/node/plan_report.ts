// `sparrow plan`: the memory plan of a compiled model on a device, as tables or JSON.
import { cliTable } from './table.js';
import type { DeviceProfile } from '../../src/compiler/devices.js';
import { flashBudget, sramBudget } from '../../src/compiler/devices.js';
import { estimateLatency } from '../../src/compiler/latency.js';
import type { LoweringReport } from '../../src/compiler/lower.js';
import { Op } from '../../src/formats/schema.js';
import type { Model } from '../../src/host/model.js';

const BAR = 40;

function bar(bytes: number, total: number): string {
  const n = total > 0 ? Math.round((bytes / total) * BAR) : 0;
  return '█'.repeat(n) + '·'.repeat(BAR - n);
}

export function printPlan(model: Model, device: DeviceProfile, options: { json: boolean }): void {
  const report: LoweringReport = model.report!;
  const latency = estimateLatency(report, device);
  const sram = { needed: report.plan.arenaBytes, available: sramBudget(device) };
  const flash = { needed: report.flash.total, available: flashBudget(device) };
  const fits = sram.needed <= sram.available && flash.needed <= flash.available;
  if (options.json) {
    console.log(JSON.stringify({ model: report.model, device: device.name, fits, sram, flash, arena: report.plan, flashBreakdown: report.flash, buffers: report.buffers, totalMacs: report.totalMacs, latency }, null, 2));
    return;
  }

  const summary = cliTable();
  summary.push(
    { model: report.model },
    { device: device.description },
    { 'SRAM (arena)': `${sram.needed} B planned of ${sram.available} B available${sram.needed > sram.available ? '  ** OVER BUDGET **' : ''} (${report.plan.naiveBytes} B without reuse)` },
    { flash: `${flash.needed} B of ${flash.available} B available${flash.needed > flash.available ? '  ** OVER BUDGET **' : ''}` },
    { MACs: String(report.totalMacs) },
    { 'estimated latency': `${latency.totalUs.toFixed(0)} µs (${(latency.totalCycles / 1e6).toFixed(2)} M cycles at ${device.clockHz / 1e6} MHz)` },
  );
  console.log(summary.toString());

  const buffers = cliTable({ head: ['buffer', 'bytes', 'offset', 'live (ops)', 'category', 'shares with'] });
  for (const b of report.buffers) buffers.push([b.name, b.bytes, b.offset, `${b.first}..${b.last}`, b.category.toLowerCase(), b.sharesWith ?? '']);
  console.log('\nArena buffers');
  console.log(buffers.toString());

  const timeline = cliTable({ head: ['#', 'op', 'output', 'live B', 'high B', `arena use (█ = ${Math.ceil(report.plan.arenaBytes / BAR)} B)`, 'est. µs'] });
  report.plan.timeline.forEach((u, i) => {
    const op = report.ops[i];
    timeline.push([i, Op[op.op].toLowerCase(), op.name, u.liveBytes, u.highWater + (i === report.plan.peakOp ? ' ◀ peak' : ''), bar(u.highWater, report.plan.arenaBytes), latency.perOp[i].us.toFixed(1)]);
  });
  console.log('\nMemory timeline over the schedule');
  console.log(timeline.toString());
  if (report.sparse.length > 0) {
    const sparse = cliTable({ head: ['layer', 'kind', 'group', 'zero groups', 'form', 'cost dense → sparse', 'flash dense → sparse', 'why'] });
    for (const d of report.sparse) {
      sparse.push([d.name, d.kind, `${d.group}x1`, `${(d.sparsity * 100).toFixed(1)} %`, d.sparse ? 'SPARSE' : 'dense', `${d.denseCost.toFixed(1)} → ${d.sparseCost.toFixed(1)}`, `${d.denseBytes} → ${d.sparseBytes} B`, d.reason]);
    }
    console.log('\nDense or group-sparse, per 1x1 / fully connected layer');
    console.log(sparse.toString());
    console.log(`sparse encodings save ${report.sparseSavedBytes} B of flash; the arena is unchanged`);
  }
  const f = report.flash;
  console.log(`\nflash: weights ${f.weights} B, biases ${f.biases} B, requantization ${f.requantTables} B, scales ${f.scales} B, schedule ${f.schedule} B, names/meta ${f.metadata} B, padding ${f.padding} B`);
}
