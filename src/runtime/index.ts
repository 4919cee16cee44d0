// The inference executor's export surface (build/sparrow.{mvp,simd}.wasm). This ABI is
// used by the host API (src/host/runtime.ts) and the WASI command (targets/wasi): keep it.
//
//   container_buffer(len) -> ptr   where the host writes the container (0: no memory)
//   load(len, budget)     -> Status validate, check arenaBytes <= budget, place the arena
//   input_ptr/bytes(i), output_ptr/bytes(i), input_count(), output_count()
//                                   graph I/O buffers inside the arena (0 when not loaded)
//   run()                 -> Status run the schedule once (NOT_LOADED, BAD_INPUT)
//   arena_bytes()  planned arena size;  high_water()  measured peak (bytes, by the last run)
//   high_water_of(category)  a Category's own high-water mark: most bytes of it live at once
//   error_detail()  byte offset (load) or tensor index (run) of the last failure, -1 if none
//   error_op()      op index of the last failure, -1 if none
export {
  arena_bytes, container_buffer, error_detail, error_op, input_bytes, input_count, input_ptr, load,
  output_bytes, output_count, output_ptr, run,
} from './executor';
import { arenaHighWater, arenaHighWaterOf } from './arena';

export function high_water(): u32 { return arenaHighWater(); }
export function high_water_of(category: u32): u32 { return arenaHighWaterOf(category); }
