// Loading the device runtime (build/sparrow.{mvp,simd}.wasm) in Node or a browser, and the
// raw export surface of the executor (src/runtime/index.ts). Everything above this file
// speaks in typed errors; this file speaks in pointers and Status codes.

import { Category, CATEGORY_COUNT } from '../formats/schema.js';

export type Build = 'mvp' | 'simd';

/** Where the .wasm comes from: bytes, a compiled module, a URL / file path, or a lazy loader of either. */
export type WasmSource = BufferSource | WebAssembly.Module | URL | string | (() => Promise<WebAssembly.Module | BufferSource>);

/** The executor's exports, exactly as src/runtime/index.ts declares them. */
export interface ExecutorExports {
  memory: WebAssembly.Memory;
  container_buffer(len: number): number;
  load(len: number, budget: number): number;
  input_count(): number;
  output_count(): number;
  input_ptr(i: number): number;
  input_bytes(i: number): number;
  output_ptr(i: number): number;
  output_bytes(i: number): number;
  run(): number;
  arena_bytes(): number;
  high_water(): number;
  high_water_of(category: number): number;
  error_detail(): number;
  error_op(): number;
}

/** The executor's per-category high-water marks (non-zero ones), keyed by lower-case Category name. */
export function categoryPeaks(exec: ExecutorExports): Record<string, number> {
  const byCategory: Record<string, number> = {};
  for (let c = 1; c < CATEGORY_COUNT; c++) {
    const bytes = exec.high_water_of(c) >>> 0;
    if (bytes > 0) byCategory[Category[c].toLowerCase()] = bytes;
  }
  return byCategory;
}

// The smallest module using one SIMD instruction (v128.const + drop): validates only where SIMD128 is supported.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 23, 1, 21, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 26, 11]);

/** The best build this host can run: `simd` where SIMD128 validates, else `mvp`. */
export function bestBuild(): Build {
  return WebAssembly.validate(SIMD_PROBE) ? 'simd' : 'mvp';
}

const defaultSources: Partial<Record<Build, WasmSource>> = {};

/** Makes `source` the default for `build` (the web bundle registers its inlined modules here). */
export function setDefaultWasm(build: Build, source: WasmSource): void {
  defaultSources[build] = source;
  compiled.delete(build);
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const compiled = new Map<Build, Promise<WebAssembly.Module>>();

async function bytesOf(source: URL | string): Promise<BufferSource> {
  const url = source instanceof URL ? source : /^[a-z]+:/i.test(source) ? new URL(source) : undefined;
  if (isNode && (!url || url.protocol === 'file:')) {
    const { readFile } = await import('node:fs/promises');
    return readFile(url ?? source);
  }
  const response = await fetch(url ?? source);
  if (!response.ok) throw new Error(`could not fetch ${String(source)}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (typeof source === 'function') return compile(await source());
  if (source instanceof WebAssembly.Module) return source;
  const bytes = typeof source === 'string' || source instanceof URL ? await bytesOf(source) : source;
  return WebAssembly.compile(bytes);
}

/** Compiles (once per build) and instantiates a fresh executor. Each session owns one instance. */
export async function instantiateExecutor(build: Build, source?: WasmSource): Promise<ExecutorExports> {
  let module: Promise<WebAssembly.Module>;
  if (source !== undefined) {
    module = compile(source);
  } else {
    let cached = compiled.get(build);
    if (!cached) {
      cached = compile(defaultSources[build] ?? new URL(`../../build/sparrow.${build}.wasm`, import.meta.url));
      compiled.set(build, cached);
      cached.catch(() => compiled.delete(build));
    }
    module = cached;
  }
  const instance = await WebAssembly.instantiate(await module, {});
  return instance.exports as unknown as ExecutorExports;
}
