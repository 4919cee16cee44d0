// Every training kernel variant, scalar and SIMD, exported for tests and benchmarks (build train_kernels.simd).
export { memory_reserve } from '../../runtime/kernels/harness';
