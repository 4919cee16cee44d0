import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { writeContainer } from '../src/formats/container.js';
import { Category, Status } from '../src/formats/schema.js';
import { firstMismatch } from './oracle/compare.js';
import { allFixtures, chainFixture, type Fixture, type Tensor } from './fixtures/models.js';
import { BUILDS, instantiate, loadInto, outputBytes, setInput, wasmBytes, type Build, type Executor } from './helpers/device.js';

const PAINT = 0xa5;
/** Bytes past the planned arena that are painted too: nothing may write there either. */
const GUARD = 64;

function asType(bytes: Uint8Array, like: Tensor): Tensor {
  return like instanceof Float32Array ? new Float32Array(bytes.slice().buffer) : new Int8Array(bytes.slice().buffer);
}

/** The arena's address, from where the executor put graph input 0. */
function arenaBase(ex: Executor, f: Fixture): number {
  return ex.input_ptr(0) - f.model.tensors[f.model.plan.inputs[0]].offset;
}

interface RunResult { outputs: Uint8Array[]; highWater: number; touchedPastHighWater: number[] }

/** Loads with a budget of exactly arenaBytes, paints the arena, runs once. */
function runPainted(build: Build, f: Fixture): RunResult {
  const ex = instantiate(build);
  const load = loadInto(ex, writeContainer(f.model), f.model.plan.arenaBytes);
  expect(Status[load.status], `${f.name} on ${build}: load`).toBe('OK');
  const base = arenaBase(ex, f);
  const end = Math.min(base + f.model.plan.arenaBytes + GUARD, ex.memory.buffer.byteLength);
  new Uint8Array(ex.memory.buffer, base, end - base).fill(PAINT);
  f.inputs.forEach((x, i) => setInput(ex, i, x));
  expect(Status[ex.run()], `${f.name} on ${build}: run`).toBe('OK');
  const highWater = ex.high_water() >>> 0;
  const after = new Uint8Array(ex.memory.buffer, base + highWater, end - base - highWater);
  const touchedPastHighWater = [...after.keys()].filter((i) => after[i] !== PAINT).map((i) => i + highWater);
  return { outputs: f.model.plan.outputs.map((_, i) => outputBytes(ex, i)), highWater, touchedPastHighWater };
}

describe('executor: one fixture per op', () => {
  for (const f of allFixtures()) {
    it(`${f.name}: outputs match the oracle on both builds, memory stays under the high-water mark`, () => {
      const results = BUILDS.map((b) => runPainted(b, f));
      results.forEach((r, i) => {
        const build = BUILDS[i];
        f.expected.forEach((want, o) => {
          const got = asType(r.outputs[o], want);
          const mismatch = firstMismatch(`${f.name} ${build} output ${o}`, got, want, { fixture: f.name, build });
          expect(mismatch).toBe('');
        });
        expect(r.touchedPastHighWater, `${f.name} ${build}: bytes written at/after high_water ${r.highWater}`).toEqual([]);
        expect(r.highWater).toBeLessThanOrEqual(f.model.plan.arenaBytes);
        if (f.tight) expect(r.highWater, `${f.name} ${build}: tight plan`).toBe(f.model.plan.arenaBytes);
      });
      expect(results[1].outputs, `${f.name}: mvp and simd differ`).toEqual(results[0].outputs);
    });
  }
});

describe('executor: memory accounting', () => {
  it("reports each category's own high-water mark", () => {
    const f = chainFixture();
    const ex = instantiate('mvp');
    expect(loadInto(ex, writeContainer(f.model)).status).toBe(Status.OK);
    setInput(ex, 0, f.inputs[0]);
    expect(ex.run()).toBe(Status.OK);
    // step 3 (conv1x1): depthwise [128,256) + pointwise [256,512) activations, scratch [0,64);
    // no other step has more activation or scratch bytes live
    expect(ex.high_water()).toBe(512);
    expect(ex.high_water_of(Category.ACTIVATION)).toBe(128 + 256);
    expect(ex.high_water_of(Category.SCRATCH)).toBe(64);
    expect(ex.high_water_of(Category.GRADIENT)).toBe(0);
    expect(ex.high_water_of(99)).toBe(0);
  });

  it('enforces the budget to the byte', () => {
    for (const f of allFixtures()) {
      const bytes = writeContainer(f.model);
      const need = f.model.plan.arenaBytes;
      for (const build of BUILDS) {
        const ex = instantiate(build);
        expect({ f: f.name, build, s: Status[loadInto(ex, bytes, need).status] }).toEqual({ f: f.name, build, s: 'OK' });
        const over = loadInto(ex, bytes, need - 1);
        expect({ f: f.name, build, s: Status[over.status] }).toEqual({ f: f.name, build, s: 'OVER_BUDGET' });
        expect(ex.arena_bytes(), 'planned size stays readable after OVER_BUDGET').toBe(need);
        expect(ex.run()).toBe(Status.NOT_LOADED);
        expect(ex.input_ptr(0)).toBe(0);
      }
    }
  });
});

describe('executor: ABI edges', () => {
  const f = allFixtures().find((x) => x.name === 'quantize')!;
  for (const build of BUILDS) {
    it(`${build}: NOT_LOADED, BAD_ARGUMENT, out-of-range I/O, BAD_INPUT on NaN`, () => {
      const ex = instantiate(build);
      expect(ex.run()).toBe(Status.NOT_LOADED);
      expect(ex.input_count()).toBe(0);
      const bytes = writeContainer(f.model);
      ex.container_buffer(bytes.length);
      expect(ex.load(bytes.length + 1, -1)).toBe(Status.BAD_ARGUMENT);
      expect(loadInto(ex, bytes).status).toBe(Status.OK);
      expect([ex.input_count(), ex.output_count(), ex.input_bytes(0), ex.output_bytes(0)]).toEqual([1, 1, 64, 16]);
      expect([ex.input_ptr(1), ex.output_ptr(1), ex.input_bytes(1), ex.output_bytes(1)]).toEqual([0, 0, 0, 0]);
      for (const bad of [NaN, Infinity, -Infinity]) {
        const x = Float32Array.from(f.inputs[0]);
        x[5] = bad;
        setInput(ex, 0, x);
        expect({ bad, status: Status[ex.run()], op: ex.error_op(), detail: ex.error_detail() })
          .toEqual({ bad, status: 'BAD_INPUT', op: 0, detail: f.model.plan.inputs[0] });
      }
      setInput(ex, 0, f.inputs[0]);
      expect(ex.run()).toBe(Status.OK);
      expect([ex.error_op(), ex.error_detail()]).toEqual([-1, -1]);
    });
  }

  it('the mvp module fits the 32 KB budget and holds no SIMD', async () => {
    const mvp = wasmBytes('mvp');
    console.log(`sparrow.mvp.wasm ${mvp.length} B, sparrow.simd.wasm ${wasmBytes('simd').length} B`);
    expect(mvp.length).toBeLessThan(32 * 1024);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(mvp))).toEqual([]);
    const wabt = await wabtInit();
    // reading with SIMD disabled fails on any v128 instruction
    expect(() => wabt.readWasm(mvp, { simd: false, sign_extension: false, sat_float_to_int: false }).validate()).not.toThrow();
    expect(() => wabt.readWasm(wasmBytes('simd'), { simd: false }).validate()).toThrow();
  });
});
