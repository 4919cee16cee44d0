// The arena: one block of SRAM of the planned size (PLAN.arenaBytes) holding every ARENA
// tensor at its planned offset. The executor binds buffers as the schedule makes them live
// and releases them after their last reader; the arena measures what that costs.
//
//   arenaBase                                             arenaBase + capacity
//   |  buffers at planned offsets (reused across steps)  |
//   +----------------------------------------------------+
//   ^ high-water mark: the highest byte (offset + bytes) of any buffer live at any step
//
// Per category (schema.ts `Category`) it also keeps that category's own high-water mark: the
// most bytes of it live at any one step (the planner's `categoryPeaks`). Nothing here
// allocates; the counters are static data.

import { CATEGORY_COUNT } from '../formats/schema';

let base: usize = 0;
let capacity: u32 = 0;
let highWater: u32 = 0;
/** Bytes live now, per category (u32 each). */
const LIVE = memory.data(CATEGORY_COUNT * 4, 4);
/** The most bytes live at any one step, per category. */
const PEAK = memory.data(CATEGORY_COUNT * 4, 4);

/** Places the arena at `ptr` (16-aligned, `bytes` usable) and clears the measurements. */
export function arenaPlace(ptr: usize, bytes: u32): void {
  base = ptr;
  capacity = bytes;
  arenaReset();
}

/** Before a run: nothing is live, nothing measured. */
export function arenaReset(): void {
  highWater = 0;
  memory.fill(LIVE, 0, CATEGORY_COUNT * 4);
  memory.fill(PEAK, 0, CATEGORY_COUNT * 4);
}

export function arenaBase(): usize { return base; }
export function arenaCapacity(): u32 { return capacity; }

/** The buffer at `offset` (validated to lie inside the arena) becomes live; returns its address. */
export function arenaBind(offset: u32, bytes: u32, category: u32): usize {
  const live = LIVE + (category << 2);
  store<u32>(live, load<u32>(live) + bytes);
  const top = offset + bytes; // <= capacity < 2^32
  if (top > highWater) highWater = top;
  return base + offset;
}

/** A buffer bound earlier is dead: its bytes may be reused. */
export function arenaRelease(bytes: u32, category: u32): void {
  const live = LIVE + (category << 2);
  store<u32>(live, load<u32>(live) - bytes);
}

/** Ends the births of a step: every category's high-water mark takes what is live now. */
export function arenaStepDone(): void {
  for (let c: u32 = 0; c < <u32>CATEGORY_COUNT; c++) {
    const live = load<u32>(LIVE + (c << 2));
    if (live > load<u32>(PEAK + (c << 2))) store<u32>(PEAK + (c << 2), live);
  }
}

export function arenaHighWater(): u32 { return highWater; }

export function arenaHighWaterOf(category: u32): u32 {
  return category < <u32>CATEGORY_COUNT ? load<u32>(PEAK + (category << 2)) : 0;
}
