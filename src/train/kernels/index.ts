// Every scalar training kernel, exported for tests and benchmarks (build train_kernels.mvp).
export { memory_reserve } from '../../runtime/kernels/harness';
