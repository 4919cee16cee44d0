// The budget check: a plan that does not fit the board is refused before anything runs,
// with the numbers a person needs to fix it (needed, available, who is responsible).
//   SRAM: the planned arena vs the device's SRAM minus its reserve (devices.ts).
//   Flash: the whole container (read in place) vs the device's flash minus its reserve.

import { BudgetError } from '../formats/errors.js';
import { flashBudget, sramBudget, type DeviceProfile } from './devices.js';
import type { LoweringReport } from './lower.js';
import type { ArenaPlan } from './planner.js';

export interface BudgetUse {
  needed: number;
  available: number;
}

/**
 * Throws BudgetError when `source` does not fit `device`. An ArenaPlan is checked for SRAM only;
 * a LoweringReport for SRAM and then flash. Contributors are the buffers live at the peak,
 * largest first, each with the op that writes it. `what` names the plan in the message.
 */
export function checkBudget(source: LoweringReport | ArenaPlan, device: DeviceProfile, what: string): { sram: BudgetUse; flash?: BudgetUse } {
  const report = 'plan' in source ? source : undefined;
  const arenaBytes = report ? report.plan.arenaBytes : (source as ArenaPlan).arenaBytes;
  const sram = { needed: arenaBytes, available: sramBudget(device) };
  if (sram.needed > sram.available) {
    throw new BudgetError(`${what} on ${device.name} (SRAM arena)`, sram.needed, sram.available, peakContributors(source));
  }
  if (!report) return { sram };
  const flash = { needed: report.flash.total, available: flashBudget(device) };
  if (flash.needed > flash.available) {
    const parts = [
      { name: 'weights', bytes: report.flash.weights },
      { name: 'biases', bytes: report.flash.biases },
      { name: 'requantization tables', bytes: report.flash.requantTables },
      { name: 'per-channel scales', bytes: report.flash.scales },
      { name: 'other constants', bytes: report.flash.otherConstants },
      { name: 'schedule', bytes: report.flash.schedule },
      { name: 'names and metadata', bytes: report.flash.metadata },
    ].filter((p) => p.bytes > 0).sort((a, b) => b.bytes - a.bytes);
    throw new BudgetError(`${what} on ${device.name} (flash container)`, flash.needed, flash.available, parts);
  }
  return { sram, flash };
}

/** The buffers live at the arena's peak, largest first, with the op that writes each. */
export function peakContributors(source: LoweringReport | ArenaPlan): { name: string; bytes: number; op?: string }[] {
  if ('plan' in source) return source.plan.peakBuffers;
  const byId = new Map(source.buffers.map((b) => [b.id, b]));
  return source.liveAtPeak.map((id) => {
    const b = byId.get(id)!;
    return { name: b.name, bytes: b.bytes, op: b.producer };
  });
}
