// Loads the kernel harness modules (build/kernels.{mvp,simd}.wasm) and places operands in
// their memory. Kernels take pointers; `Workspace` hands out 16-byte aligned regions.
import { readFileSync } from 'node:fs';

export type KernelBuild = 'mvp' | 'simd';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelExports = Record<string, any> & { memory: WebAssembly.Memory; memory_reserve(bytes: number): number };

const cache = new Map<KernelBuild, KernelExports>();

export function loadKernels(build: KernelBuild): KernelExports {
  let k = cache.get(build);
  if (!k) {
    const module = new WebAssembly.Module(readFileSync(new URL(`../../build/kernels.${build}.wasm`, import.meta.url)));
    k = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    cache.set(build, k);
  }
  return k;
}

/** A bump allocator over the harness's memory; `reset()` before each case. */
export class Workspace {
  private top = 0;
  private base = 0;
  constructor(readonly k: KernelExports, private readonly capacity = 16 << 20) {
    this.base = k.memory_reserve(capacity);
    if (this.base === 0) throw new Error('kernel harness could not reserve memory');
    this.top = this.base;
  }
  reset(): void {
    this.top = this.base;
  }
  alloc(bytes: number): number {
    const p = this.top;
    this.top = (this.top + bytes + 15) & ~15;
    if (this.top > this.base + this.capacity) throw new Error('workspace full');
    return p;
  }
  i8(data: ArrayLike<number>): number {
    const p = this.alloc(data.length);
    new Int8Array(this.k.memory.buffer, p, data.length).set(data);
    return p;
  }
  i32(data: ArrayLike<number>): number {
    const p = this.alloc(data.length * 4);
    new Int32Array(this.k.memory.buffer, p, data.length).set(data);
    return p;
  }
  f32(data: ArrayLike<number>): number {
    const p = this.alloc(data.length * 4);
    new Float32Array(this.k.memory.buffer, p, data.length).set(data);
    return p;
  }
  readI8(p: number, n: number): Int8Array {
    return new Int8Array(this.k.memory.buffer, p, n).slice();
  }
  readF32(p: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n).slice();
  }
}
