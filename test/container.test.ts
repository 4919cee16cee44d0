import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ContainerError, readContainer, writeContainer } from '../src/formats/container.js';
import { encodeOpTable } from '../src/formats/container_op_rules.js';
import { Section, Status } from '../src/formats/schema.js';
import { BROKEN, Layout, fixtureNamed, hostError, withCrc, expectRefusedAlike } from './fixtures/broken.js';
import { allFixtures } from './fixtures/models.js';
import { BUILDS, instantiate, loadInto } from './helpers/device.js';

describe('container round trip', () => {
  for (const f of allFixtures()) {
    it(`${f.name}: read(write(m)) == m and the bytes are stable`, () => {
      const bytes = writeContainer(f.model);
      const back = readContainer(bytes);
      const normalized = {
        ...f.model,
        tensors: f.model.tensors.map((t) => ({ ...t, scale: Math.fround(t.scale) })), // the file stores f32
        ops: f.model.ops.map((o) => ({ ...o, params: [...o.params, ...new Array(12 - o.params.length).fill(0)] })),
      };
      expect(back).toEqual(normalized);
      expect(writeContainer(back)).toEqual(bytes);
    });
  }
});

describe('device op table', () => {
  it('equals the host OP_RULES byte for byte', () => {
    const source = readFileSync(new URL('../src/runtime/container.ts', import.meta.url), 'utf8');
    const literal = /const OP_TABLE = memory\.data<u8>\(\[([\s\S]*?)\]\);/.exec(source);
    expect(literal, 'OP_TABLE literal not found').not.toBeNull();
    const device = literal![1].split('\n').map((line) => line.replace(/\/\/.*$/, '').trim()).filter(Boolean)
      .map((line) => line.split(',').map((s) => s.trim()).filter(Boolean).map(Number));
    expect(device).toEqual(encodeOpTable());
  });
});

describe('the writer refuses what the reader refuses', () => {
  it('overlapping live buffers', () => {
    const m = structuredClone(fixtureNamed('conv2d batch 1').model);
    m.tensors[1].offset = 96;
    expect(() => writeContainer(m)).toThrow(/BAD_PLAN.*tensors 0 and 1/);
  });
  it('an op with 5 inputs', () => {
    const m = structuredClone(fixtureNamed('conv2d batch 1').model);
    m.ops[0].inputs.push(0);
    expect(() => writeContainer(m)).toThrow(ContainerError);
  });
});

describe('every validation rule, host and device', () => {
  const executors = BUILDS.map((b) => [b, instantiate(b)] as const);
  for (const c of BROKEN) {
    it(`${c.rule} -> ${Status[c.status]}`, () => {
      const base = writeContainer(fixtureNamed(c.fixture).model);
      const layout = new Layout(base.slice());
      const mutated = c.mutate(layout) ?? layout.bytes;
      const bytes = c.keepCrc || mutated.length < 20 ? mutated : withCrc(mutated);
      const at = c.at(new Layout(base));
      expectRefusedAlike(bytes, c.rule, c.status, at, executors);
    });
  }

  it('every valid fixture loads on both builds', () => {
    for (const f of allFixtures()) {
      for (const [build, ex] of executors) {
        const r = loadInto(ex, writeContainer(f.model));
        expect({ fixture: f.name, build, status: Status[r.status] }).toEqual({ fixture: f.name, build, status: 'OK' });
      }
    }
  });
});

describe('NAMES and META (host only)', () => {
  const chain = fixtureNamed('chain of every op kind').model;
  function withSection(kind: Section, text: string): Uint8Array {
    const bytes = writeContainer(chain);
    const l = new Layout(bytes);
    const at = l.sec(kind), len = l.length(kind);
    const body = new TextEncoder().encode(text.padEnd(len, ' '));
    if (body.length !== len) throw new Error('replacement must fit the section');
    bytes.set(body, at);
    return withCrc(bytes);
  }
  it('a NAMES array of the wrong length is refused by the host, ignored by the device', () => {
    const bytes = withSection(Section.NAMES, '["a"]');
    const err = hostError(bytes);
    expect(err?.hostOnly).toBe(true);
    expect(err?.message).toMatch(new RegExp(`NAMES must be a JSON array of ${chain.tensors.length} strings`));
    expect(loadInto(instantiate('mvp'), bytes).status).toBe(Status.OK);
  });
  it('META that is not JSON is refused by the host', () => {
    const err = hostError(withSection(Section.META, '{"producer": '));
    expect(err?.hostOnly).toBe(true);
    expect(err?.message).toMatch(/META is not UTF-8 JSON/);
  });
  it('names and meta survive the round trip', () => {
    const back = readContainer(writeContainer(chain));
    expect(back.names?.[9]).toBe('probs');
    expect(back.meta).toEqual(chain.meta);
  });
});
