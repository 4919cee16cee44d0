import { describe, expect, it } from 'vitest';
import { checkBudget } from '../src/compiler/budget.js';
import { getDevice, type DeviceProfile } from '../src/compiler/devices.js';
import type { LoweringReport } from '../src/compiler/lower.js';
import { planArena, type PlanBuffer } from '../src/compiler/planner.js';
import { BudgetError } from '../src/formats/errors.js';
import { Category } from '../src/formats/schema.js';

const board = (sram: number, flash: number): DeviceProfile => ({
  ...getDevice('nrf52840'), name: 'board', sramBytes: sram, reservedSramBytes: 1000, flashBytes: flash, reservedFlashBytes: 500,
});

// op 0 conv writes a (640 B) from input x (320 B); op 1 writes b (960 B) from a; op 2 writes y (32 B) from b.
const buffers: PlanBuffer[] = [
  { id: 0, name: 'x', bytes: 320, first: 0, last: 0, category: Category.ACTIVATION, producer: 'graph input' },
  { id: 1, name: 'a', bytes: 640, first: 0, last: 1, category: Category.ACTIVATION, producer: 'op 0 conv2d' },
  { id: 2, name: 'b', bytes: 960, first: 1, last: 2, category: Category.ACTIVATION, producer: 'op 1 conv2d' },
  { id: 3, name: 'y', bytes: 32, first: 2, last: 2, category: Category.ACTIVATION, producer: 'op 2 fully_connected' },
];
// b@0 (largest), a@960, x@0, y@960: ops 0 and 1 both reach byte 1600; op 1 holds more live
// bytes (a + b), so its buffers are the ones that explain the peak.
const plan = planArena(buffers);

function thrown(f: () => unknown): BudgetError {
  try {
    f();
  } catch (e) {
    if (e instanceof BudgetError) return e;
    throw e;
  }
  throw new Error('expected a BudgetError');
}

describe('checkBudget: SRAM', () => {
  it('passes a plan that fits exactly and reports the numbers', () => {
    expect(plan.arenaBytes).toBe(1600);
    expect(checkBudget(plan, board(2600, 10000), 'net')).toEqual({ sram: { needed: 1600, available: 1600 } });
  });

  it('refuses one byte over with needed, available and the peak contributors, largest first', () => {
    const e = thrown(() => checkBudget(plan, board(2599, 10000), 'net'));
    expect([e.needed, e.available]).toEqual([1600, 1599]);
    expect(e.contributors).toEqual([{ name: 'b', bytes: 960, op: 'op 1 conv2d' }, { name: 'a', bytes: 640, op: 'op 0 conv2d' }]);
    expect(e.message).toBe('net on board (SRAM arena) needs 1600 B but only 1599 B are available (1 B over); largest: b 960 B (op 1 conv2d), a 640 B (op 0 conv2d)');
  });
});

describe('checkBudget: a lowering report (SRAM, then flash)', () => {
  const report = {
    plan: { arenaBytes: 1600, peakBuffers: [{ name: 'b', bytes: 960, op: 'op 1 conv2d' }] },
    flash: { weights: 5000, biases: 400, requantTables: 800, scales: 400, otherConstants: 0, schedule: 900, metadata: 300, padding: 200, total: 8000 },
  } as unknown as LoweringReport;

  it('checks the container against flash minus the reserve', () => {
    expect(checkBudget(report, board(2600, 8500), 'net')).toEqual({ sram: { needed: 1600, available: 1600 }, flash: { needed: 8000, available: 8000 } });
    const e = thrown(() => checkBudget(report, board(2600, 8499), 'net'));
    expect([e.needed, e.available]).toEqual([8000, 7999]);
    expect(e.message).toMatch(/^net on board \(flash container\) needs 8000 B/);
    expect(e.contributors.map((c) => c.name)).toEqual(['weights', 'schedule', 'requantization tables', 'biases', 'per-channel scales', 'names and metadata']);
  });

  it('reports SRAM first when both are over', () => {
    const e = thrown(() => checkBudget(report, board(100, 100), 'net'));
    expect(e.message).toMatch(/\(SRAM arena\)/);
    expect(e.contributors).toEqual([{ name: 'b', bytes: 960, op: 'op 1 conv2d' }]);
  });
});
