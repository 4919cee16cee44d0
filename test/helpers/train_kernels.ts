// Loads the training-kernel harness modules (build/train_kernels.{mvp,simd}.wasm); operands
// are placed with the same `Workspace` as the inference kernels (test/helpers/kernels.ts).
import { readFileSync } from 'node:fs';
import type { KernelBuild, KernelExports } from './kernels.js';

export { Workspace, type KernelBuild, type KernelExports } from './kernels.js';

const cache = new Map<KernelBuild, KernelExports>();

/** One instance per build, shared by every test in a file: reseed the PRNG (prng_seed) per case. */
export function loadTrainKernels(build: KernelBuild): KernelExports {
  let k = cache.get(build);
  if (!k) {
    const module = new WebAssembly.Module(readFileSync(new URL(`../../build/train_kernels.${build}.wasm`, import.meta.url)));
    k = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    cache.set(build, k);
  }
  return k;
}

export interface TrainVariant {
  build: KernelBuild;
  name: string;
}

/** The scalar kernel on both builds, plus `<name>_simd` on the simd build when it exists. */
export function trainVariants(scalar: string): TrainVariant[] {
  const variants: TrainVariant[] = [{ build: 'mvp', name: scalar }, { build: 'simd', name: scalar }];
  if (typeof loadTrainKernels('simd')[`${scalar}_simd`] === 'function') variants.push({ build: 'simd', name: `${scalar}_simd` });
  return variants;
}

/** Index of the first element whose bits differ (NaN payloads included), or -1. */
export function firstBitMismatch(a: Float32Array | Int8Array | Int32Array, b: Float32Array | Int8Array | Int32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const width = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return Math.floor(i / width);
  return -1;
}
