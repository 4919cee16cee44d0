// 10,000 seeded mutations of valid containers through the host reader and the device
// loader (mvp and simd). Each must be rejected by both (same Status) or accepted by both and
// then run without a trap, with equal outputs on the two builds.
import { describe, expect, it } from 'vitest';
import { ContainerError, readContainer, writeContainer } from '../src/formats/container.js';
import { Status } from '../src/formats/schema.js';
import { withCrc } from './fixtures/broken.js';
import { allFixtures } from './fixtures/models.js';
import { sparseFixture } from './fixtures/sparse.js';
import { Rng } from './helpers/rng.js';
import { BUILDS, instantiate, loadInto, outputBytes, type Executor } from './helpers/device.js';

const CASES = 10_000;
const SEED = 0x5eed;
/** Arena budget for the fuzz: larger plans are OVER_BUDGET, never an attempt to grow to 4 GB. */
const BUDGET = 1 << 24;
const ABSURD = [0, 1, 15, 16, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

interface Mutation { bytes: Uint8Array; what: string }

/** Byte offsets worth aiming absurd values at: header, section table, records, plan. */
function fieldOffsets(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer);
  const at = [8, 12];
  const n = v.getUint32(12, true);
  for (let i = 0; i < n; i++) {
    const e = 32 + 12 * i;
    const [kind, off, len] = [v.getUint32(e, true), v.getUint32(e + 4, true), v.getUint32(e + 8, true)];
    at.push(e, e + 4, e + 8);
    const step = kind === 1 ? 40 : kind === 2 ? 64 : kind === 4 ? 2 : 0;
    for (let r = off; step && r < off + len; r += step) {
      if (kind === 1) at.push(r + 4, r + 8, r + 20, r + 24, r + 36);
      if (kind === 2) at.push(r + 4, r + 8, r + 12, r + 16, r + 24, r + 32);
      if (kind === 4) at.push(r);
    }
  }
  return at;
}

function mutate(rng: Rng, base: Uint8Array): Mutation {
  const b = base.slice();
  const kind = rng.int(0, 4);
  switch (kind) {
    case 0: {
      const flips = rng.int(1, 8);
      for (let i = 0; i < flips; i++) b[rng.int(0, b.length - 1)] ^= 1 << rng.int(0, 7);
      return { bytes: b, what: `${flips} bit flips` };
    }
    case 1: {
      const value = rng.pick([0, 0xff, -1]);
      const count = rng.int(1, 4);
      for (let i = 0; i < count; i++) b[rng.int(0, b.length - 1)] = value < 0 ? rng.int(0, 255) : value;
      return { bytes: b, what: `${count} bytes overwritten with ${value < 0 ? 'random' : value}` };
    }
    case 2: {
      const len = rng.int(0, b.length - 1);
      return { bytes: b.slice(0, len), what: `truncated to ${len} B` };
    }
    case 3: {
      const extra = rng.int(1, 64);
      const out = new Uint8Array(b.length + extra);
      out.set(b);
      for (let i = b.length; i < out.length; i++) out[i] = rng.int(0, 255);
      if (rng.next() < 0.5) new DataView(out.buffer).setUint32(8, out.length, true);
      return { bytes: out, what: `extended by ${extra} B` };
    }
    default: {
      const at = rng.pick(fieldOffsets(b));
      const value = rng.next() < 0.7 ? rng.pick(ABSURD) : rng.int(0, 0xffffffff);
      const v = new DataView(b.buffer);
      const width = rng.pick([2, 4]);
      if (width === 2) v.setUint16(at, value & 0xffff, true);
      else v.setUint32(at, value >>> 0, true);
      return { bytes: b, what: `u${8 * width} ${value} written at ${at}` };
    }
  }
}

type Verdict = { accepted: true } | { accepted: false; status: Status; offset?: number; check: string; hostOnly: boolean };

function hostVerdict(bytes: Uint8Array): Verdict {
  try {
    readContainer(bytes);
    return { accepted: true };
  } catch (e) {
    if (!(e instanceof ContainerError)) throw e;
    // the check, without the numbers of this case: "BAD_TENSOR: tensor #: dim # is # (rank #)"
    const check = e.message.replace(/\s*\(at byte \d+\)$/, '').replace(/(?<![A-Z]|[A-Z]-)-?\b\d+(\.\d+)?\b/g, '#').replace(/0x[0-9a-f]+/g, '#');
    return { accepted: false, status: e.status, offset: e.offset, check, hostOnly: e.hostOnly };
  }
}

function fillInputs(ex: Executor, rng: Rng): void {
  for (let i = 0; i < ex.input_count(); i++) {
    const bytes = new Uint8Array(ex.memory.buffer, ex.input_ptr(i), ex.input_bytes(i));
    for (let j = 0; j < bytes.length; j++) bytes[j] = rng.int(0, 255);
  }
}

describe('container fuzz', () => {
  it(`${CASES} mutated containers: host and device agree, nothing traps`, () => {
    const bases = [...allFixtures().map((f) => writeContainer(f.model)), sparseFixture().bytes];
    const rng = new Rng(SEED);
    const executors = BUILDS.map((b) => instantiate(b));
    const byCheck = new Map<string, number>();
    const tally = { accepted: 0, rejected: 0, hostOnly: 0, overBudget: 0, crcFixed: 0, ran: 0 };
    for (let n = 0; n < CASES; n++) {
      const m = mutate(rng, rng.pick(bases));
      const fixCrc = rng.next() < 0.5 && m.bytes.length >= 20;
      if (fixCrc) (withCrc(m.bytes), tally.crcFixed++);
      const label = `case ${n} (seed ${SEED}): ${m.what}${fixCrc ? ', CRC fixed' : ''}`;
      const host = hostVerdict(m.bytes);
      const loads = executors.map((ex) => loadInto(ex, m.bytes, BUDGET));
      expect(loads[1], `${label}: mvp and simd disagree`).toEqual(loads[0]);
      const device = loads[0].status;
      if (!host.accepted) {
        byCheck.set(host.check, (byCheck.get(host.check) ?? 0) + 1);
        if (host.hostOnly) {
          tally.hostOnly++;
          expect(Status[device], `${label}: ${host.check}`).toBe('OK');
          continue;
        }
        tally.rejected++;
        expect({ status: Status[device], at: loads[0].detail }, `${label}: host says ${host.check}`).toEqual({ status: Status[host.status], at: host.offset });
        continue;
      }
      tally.accepted++;
      if (device === Status.OVER_BUDGET) {
        tally.overBudget++;
        expect(executors[0].arena_bytes() >>> 0, label).toBeGreaterThan(BUDGET);
        continue;
      }
      expect(Status[device], `${label}: host accepted`).toBe('OK');
      const inputSeed = rng.int(0, 0x7fffffff);
      const outputs = executors.map((ex) => {
        fillInputs(ex, new Rng(inputSeed));
        const status = ex.run(); // a trap throws WebAssembly.RuntimeError and fails the test
        expect(['OK', 'BAD_INPUT'], label).toContain(Status[status]);
        return Array.from({ length: ex.output_count() }, (_, i) => outputBytes(ex, i));
      });
      expect(outputs[1], `${label}: outputs differ between builds`).toEqual(outputs[0]);
      tally.ran++;
    }
    const rows = [...byCheck].sort((a, b) => b[1] - a[1]);
    console.log(`fuzz: ${JSON.stringify(tally)}\n` + rows.map(([check, count]) => `${String(count).padStart(6)}  ${check}`).join('\n'));
    expect(tally.accepted + tally.rejected + tally.hostOnly).toBe(CASES);
    expect(tally.rejected).toBeGreaterThan(CASES / 2);
  });
});
