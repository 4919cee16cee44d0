// Every scalar kernel, exported for tests and benchmarks (build kernels.mvp).
export * from './add_s8';
export * from './avg_pool_s8';
export * from './conv1x1_s8';
export * from './conv2d_s8';
export * from './depthwise_conv2d_s8';
export * from './dequantize_s8_f32';
export * from './expand_depthwise_s8';
export * from './fully_connected_s8';
export * from './global_avg_pool_s8';
export * from './max_pool_s8';
export * from './quantize_f32_s8';
export * from './softmax_s8';
export { memory_reserve } from './harness';
export * from './requant_probe';
export * from './sparse_conv1x1_s8';
export * from './sparse_fully_connected_s8';
export * from './sparse_weights_probe';
