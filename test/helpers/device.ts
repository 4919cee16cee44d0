// Loads the inference executor (build/sparrow.{mvp,simd}.wasm) in Node and drives its raw ABI
// (src/runtime/index.ts): copy a container in, load, fill inputs, run, read outputs.
import { readFileSync } from 'node:fs';
import type { ExecutorExports } from '../../src/host/runtime.js';

export type Build = 'mvp' | 'simd';
export const BUILDS: Build[] = ['mvp', 'simd'];
/** A budget that never binds: the largest u32. */
export const NO_BUDGET = 0xffffffff;

/** The executor's exports (the same surface the host API drives). */
export type Executor = ExecutorExports;

const modules = new Map<Build, WebAssembly.Module>();

export function wasmBytes(build: Build): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(new URL(`../../build/sparrow.${build}.wasm`, import.meta.url)));
}

/** A fresh executor instance (its own memory). */
export function instantiate(build: Build): Executor {
  let m = modules.get(build);
  if (!m) modules.set(build, (m = new WebAssembly.Module(wasmBytes(build))));
  return new WebAssembly.Instance(m, {}).exports as unknown as Executor;
}

export interface LoadResult { status: number; detail: number; op: number }

/** Copies `bytes` into the executor and loads them under `budget` arena bytes. */
export function loadInto(ex: Executor, bytes: Uint8Array, budget = NO_BUDGET): LoadResult {
  const ptr = ex.container_buffer(bytes.length);
  if (ptr === 0) throw new Error(`container_buffer(${bytes.length}) could not reserve memory`);
  new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
  const status = ex.load(bytes.length, budget >>> 0 | 0);
  return { status, detail: ex.error_detail(), op: ex.error_op() };
}

export function setInput(ex: Executor, i: number, data: Int8Array | Float32Array): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length !== ex.input_bytes(i)) throw new Error(`input ${i} takes ${ex.input_bytes(i)} B, got ${bytes.length}`);
  new Uint8Array(ex.memory.buffer, ex.input_ptr(i), bytes.length).set(bytes);
}

export function outputBytes(ex: Executor, i: number): Uint8Array {
  return new Uint8Array(ex.memory.buffer, ex.output_ptr(i), ex.output_bytes(i)).slice();
}
