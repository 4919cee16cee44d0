// Many train steps in one call. The host writes the inputs of up to `capacity` steps into a
// staging region, run_staged(n) runs steps 0..n-1 in order, each exactly as one run() (same
// PRNG stream, same weights after n steps as n calls of run()), and leaves every step's outputs
// (the loss) in the region. This saves the host a call, a copy and a read per step.
//
// The region lies after the arena and is not part of the SRAM budget (on a device the samples
// come from a sensor or flash and this path is unused). One plane per graph input, then one per
// graph output; plane p holds its tensor for step i at plane(p) + i * bytes(p):
//
//   arena end (16-aligned)
//   | input 0 x capacity | input 1 x capacity | ... | output 0 x capacity | ...
//   each plane rounded up to 16 bytes
//
// Lifetime: load() drops the region (stage_reserve again after a load). stage_reserve may grow
// memory, which detaches the host's views of it: reserve before making views.

import { Status } from '../formats/schema';
import { arenaBase, arenaCapacity } from '../runtime/arena';
import { input_bytes, input_count, input_ptr, isLoaded, output_bytes, output_count, output_ptr } from '../runtime/executor';
import { run } from './executor';

let capacity: u32 = 0;
let done: u32 = 0;

/** Called by load(): the region of the previous container is gone. */
export function dropStage(): void {
  capacity = 0;
  done = 0;
}

function planeBytes(p: u32): u64 {
  const bytes = p < input_count() ? input_bytes(p) : output_bytes(p - input_count());
  return (<u64>bytes * capacity + 15) & ~(<u64>15);
}

/** Reserves staging for `steps` steps; returns plane 0's address, 0 (and no region) when not loaded or out of memory. */
export function stage_reserve(steps: u32): usize {
  capacity = 0;
  if (!isLoaded() || steps == 0) return 0;
  capacity = steps;
  const start = (<u64>arenaBase() + arenaCapacity() + 15) & ~(<u64>15);
  let end = start;
  for (let p: u32 = 0; p < input_count() + output_count(); p++) end += planeBytes(p);
  const have = <u64>memory.size() << 16;
  if (end > <u64>0x100000000 || (end > have && memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0)) {
    capacity = 0;
    return 0;
  }
  return <usize>start;
}

/** Address of plane p (graph inputs first, then graph outputs); 0 if there is no such plane or no region. */
export function stage_plane(p: u32): usize {
  if (capacity == 0 || p >= input_count() + output_count()) return 0;
  let at = (<u64>arenaBase() + arenaCapacity() + 15) & ~(<u64>15);
  for (let q: u32 = 0; q < p; q++) at += planeBytes(q);
  return <usize>at;
}

/**
 * Runs steps 0..steps-1 over the staged inputs; stops at the first failing step (its status,
 * error_op and error_detail as run() sets them). staged_done() tells how many steps completed.
 */
export function run_staged(steps: u32): i32 {
  done = 0;
  if (!isLoaded()) return Status.NOT_LOADED;
  if (steps > capacity) return Status.BAD_ARGUMENT;
  const inputs = input_count(), outputs = output_count();
  for (let i: u32 = 0; i < steps; i++) {
    for (let p: u32 = 0; p < inputs; p++) {
      const bytes = input_bytes(p);
      memory.copy(input_ptr(p), stage_plane(p) + <usize>i * bytes, bytes);
    }
    const status = run();
    if (status != Status.OK) return status;
    for (let q: u32 = 0; q < outputs; q++) {
      const bytes = output_bytes(q);
      memory.copy(stage_plane(inputs + q) + <usize>i * bytes, output_ptr(q), bytes);
    }
    done = i + 1;
  }
  return Status.OK;
}

/** Steps the last run_staged completed. */
export function staged_done(): u32 { return done; }
