// The training executor's export surface (build/sparrow-train.{mvp,simd}.wasm): the inference
// ABI of src/runtime/index.ts, where load() also initialises the TRAINABLE tensors and run()
// runs one train step, plus:
//   prng_seed(seed)   restarts the PRNG of stochastic rounding (the same stream on mvp and simd)
//   set_rate_scale(s) multiplies the update ops' learning rates from the next step on (1 after load)
//   tensor_ptr(t)     arena address of TRAINABLE or OPTIMIZER tensor t (to read trained weights and momentum back), 0 if not
export {
  arena_bytes, container_buffer, error_detail, error_op, input_bytes, input_count, input_ptr,
  output_bytes, output_count, output_ptr,
} from '../runtime/executor';
export { high_water, high_water_of } from '../runtime/index';
export { loadTrainStep as load, run, set_rate_scale, tensor_ptr } from './executor';
export { prng_seed } from './kernels/prng';
