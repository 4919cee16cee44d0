// Every scalar training kernel, exported for tests and benchmarks (build train_kernels.mvp).
export * from './add_backward_f32';
export * from './apply_mask_f32';
export * from './avg_pool_backward_f32';
export { bias_update_s32 } from './bias_update_s32';
export * from './conv2d_backward_input_f32';
export * from './conv2d_update_s8';
export * from './depthwise_conv2d_backward_input_f32';
export * from './depthwise_conv2d_update_s8';
export * from './fully_connected_backward_input_f32';
export * from './fully_connected_update_s8';
export * from './global_avg_pool_backward_f32';
export * from './max_pool_backward_f32';
export * from './mse_f32';
export * from './mse_s8';
export { prng_next_u32, prng_seed } from './prng';
export * from './relu_mask_s8';
export * from './softmax_cross_entropy_s8';
export { memory_reserve } from '../../runtime/kernels/harness';
