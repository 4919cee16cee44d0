// The training executor's export surface (build/sparrow-train.{mvp,simd}.wasm): the inference
// ABI of src/runtime/index.ts, where load() also initialises the TRAINABLE tensors and run()
// runs one train step, plus:
//   prng_seed(seed)   restarts the PRNG of stochastic rounding (the same stream on mvp and simd)
//   tensor_ptr(t)     arena address of TRAINABLE or OPTIMIZER tensor t (to read trained weights and momentum back), 0 if not
//   stage_reserve(n), stage_plane(p), run_staged(n), staged_done()
//                     n train steps in one call over inputs staged after the arena (staged_steps.ts)
export {
  arena_bytes, container_buffer, error_detail, error_op, input_bytes, input_count, input_ptr,
  output_bytes, output_count, output_ptr,
} from '../runtime/executor';
export { high_water, high_water_of } from '../runtime/index';
export { loadTrainStep as load, run, tensor_ptr } from './executor';
export { prng_seed } from './kernels/prng';
export { run_staged, stage_plane, stage_reserve, staged_done } from './staged_steps';
