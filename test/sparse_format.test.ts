// Group-sparse blobs (docs/sparse.md): encoder/decoder round trip, the host validator
// (FormatError naming the field's byte offset) and the device validator (through the kernel
// harness probe `probe_sparse_weights_fault`) on hand-made faults and on mutated blobs.
import { describe, expect, it } from 'vitest';
import { FormatError, ShapeError } from '../src/formats/errors.js';
import {
  decodeGroupSparse, encodeGroupSparse, groupSparsity, nonzeroGroups, sparseBlobBytes, sparseLayout, validateGroupSparse,
} from '../src/formats/sparse.js';
import { loadKernels, type KernelBuild } from './helpers/kernels.js';
import { Rng } from './helpers/rng.js';

const GROUP_SIZES = [1, 2, 4, 8];

interface Layer { outC: number; inC: number; g: number; w: Int8Array }

/** Random weights with about `sparsity` of their groups zero (and a few zeros inside groups). */
function randomLayer(rng: Rng): Layer {
  const g = rng.pick(GROUP_SIZES);
  const outC = g * rng.int(1, 12);
  const inC = rng.pick([1, 2, 7, 8, 9, 16, 33, rng.int(1, 200)]);
  const sparsity = rng.pick([0, 0.5, 0.9, 1, rng.next()]);
  const w = rng.int8Array(outC * inC, -127, 127);
  for (let b = 0; b < outC / g; b++) {
    for (let ci = 0; ci < inC; ci++) {
      const zero = rng.next() < sparsity;
      for (let j = 0; j < g; j++) if (zero || rng.next() < 0.2) w[(b * g + j) * inC + ci] = 0;
    }
  }
  return { outC, inC, g, w };
}

/** Host verdict: the FormatError's offset, or -1 when the blob is valid. */
function hostFault(blob: Uint8Array, outC: number, inC: number): number {
  try {
    validateGroupSparse(blob, outC, inC);
    return -1;
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    return e.offset ?? -2;
  }
}

function deviceValidator(build: KernelBuild): (blob: Uint8Array, outC: number, inC: number) => number {
  const k = loadKernels(build);
  return (blob, outC, inC) => {
    // flush against the end of memory: any read past the blob traps
    const at = k.memory.buffer.byteLength - blob.length;
    new Uint8Array(k.memory.buffer).set(blob, at);
    return k.probe_sparse_weights_fault(at, blob.length, outC, inC) as number;
  };
}

/** A small valid blob and its layout, for the hand-made faults. */
function sample(): { layer: Layer; blob: Uint8Array; view: DataView; at: ReturnType<typeof sparseLayout> } {
  // g = 2, outC = 4 (2 blocks), inC = 5: block 0 uses channels 1, 3 (a pair); block 1 uses
  // channel 4 (a lone group)
  const w = new Int8Array(20);
  w[0 * 5 + 1] = 3; w[1 * 5 + 1] = 5; w[1 * 5 + 3] = -7; w[3 * 5 + 4] = 127;
  const layer = { outC: 4, inC: 5, g: 2, w };
  const blob = encodeGroupSparse(w, 4, 5, 2);
  return { layer, blob, view: new DataView(blob.buffer), at: sparseLayout(4, 2, 3) };
}

describe('group-sparse encoding', () => {
  it('lays out the documented fields for a hand-checked layer', () => {
    const { blob, view, at } = sample();
    expect([view.getUint16(0, true), view.getUint16(2, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true)]).toEqual([2, 1, 4, 5, 3]);
    expect([view.getUint16(16, true), view.getUint16(18, true)]).toEqual([2, 1]); // counts
    expect([0, 1, 2].map((i) => view.getUint16(at.deltasAt + 2 * i, true))).toEqual([1, 2, 4]); // deltas
    expect(at.valuesAt % 4).toBe(0);
    // block 0's pair interleaved by channel (W[0][1] W[0][3] W[1][1] W[1][3]), block 1's lone group
    expect(Array.from(new Int8Array(blob.buffer, at.valuesAt))).toEqual([3, 0, 5, -7, 0, 127]);
    expect(blob.length).toBe(sparseBlobBytes(4, 5, 2, 3));
  });

  it('round-trips 500 seeded layers and reports their sparsity', () => {
    const rng = new Rng(0x5e1);
    for (let i = 0; i < 500; i++) {
      const { outC, inC, g, w } = randomLayer(rng);
      const blob = encodeGroupSparse(w, outC, inC, g);
      const back = decodeGroupSparse(blob);
      const label = `case ${i}: outC ${outC} inC ${inC} g ${g}`;
      expect({ g: back.g, outC: back.outC, inC: back.inC }, label).toEqual({ g, outC, inC });
      expect(Buffer.from(back.weights.buffer).equals(Buffer.from(w.buffer)), label).toBe(true);
      const nz = nonzeroGroups(w, outC, inC, g);
      expect(blob.length, label).toBe(sparseBlobBytes(outC, inC, g, nz));
      expect(groupSparsity(w, outC, inC, g), label).toBeCloseTo(1 - nz / ((outC / g) * inC), 12);
    }
  });

  it('refuses weights it cannot encode', () => {
    const w = new Int8Array(8);
    expect(() => encodeGroupSparse(w, 8, 1, 3)).toThrow(ShapeError); // g not 1/2/4/8
    expect(() => encodeGroupSparse(w, 2, 4, 4)).toThrow(ShapeError); // g does not divide outC
    expect(() => encodeGroupSparse(w, 4, 4, 1)).toThrow(ShapeError); // wrong length
    expect(() => encodeGroupSparse(Int8Array.of(0, -128), 2, 1, 1)).toThrow(/-128/);
  });
});

/** Hand-made faults: [name, mutate(blob, view, at) -> blob, expected offset, layer override]. */
type Fault = [string, (b: Uint8Array, v: DataView, at: ReturnType<typeof sparseLayout>) => Uint8Array, number | ((b: Uint8Array) => number), { outC?: number; inC?: number }?];
const FAULTS: Fault[] = [
  ['length shorter than the header', (b) => b.slice(0, 10), 10],
  ['group size 3', (b, v) => (v.setUint16(0, 3, true), b), 0],
  ['group size 0', (b, v) => (v.setUint16(0, 0, true), b), 0],
  ['layout 0 (the earlier group-by-group values)', (b, v) => (v.setUint16(2, 0, true), b), 2],
  ['layout 2', (b, v) => (v.setUint16(2, 2, true), b), 2],
  ['outC mismatch', (b) => b, 4, { outC: 6 }],
  ['inC mismatch', (b) => b, 8, { inC: 6 }],
  ['group size not dividing outC', (b, v) => (v.setUint16(0, 8, true), b), 0],
  ['counts past the end', (b) => b.slice(0, 17), 16],
  ['a count larger than inC', (b, v) => (v.setUint16(16, 6, true), b), 16],
  ['counts not adding up to groups', (b, v) => (v.setUint16(18, 0, true), b), 12],
  ['groups field off by one', (b, v) => (v.setUint32(12, 4, true), b), 12],
  ['blob one byte too short', (b) => b.slice(0, b.length - 1), (b) => b.length],
  ['blob one byte too long', (b) => Uint8Array.from([...b, 0]), (b) => b.length],
  ['first index >= inC', (b, v, at) => (v.setUint16(at.deltasAt, 5, true), b), (b) => sparseLayout(4, 2, 3).deltasAt],
  ['zero delta after the first group', (b, v, at) => (v.setUint16(at.deltasAt + 2, 0, true), b), () => sparseLayout(4, 2, 3).deltasAt + 2],
  ['deltas summing past inC', (b, v, at) => (v.setUint16(at.deltasAt + 2, 4, true), b), () => sparseLayout(4, 2, 3).deltasAt + 2],
  ['non-zero padding', (b, v, at) => (v.setUint8(at.valuesAt - 1, 1), b), () => sparseLayout(4, 2, 3).valuesAt - 1],
  ['value -128', (b, v, at) => (v.setInt8(at.valuesAt + 3, -128), b), () => sparseLayout(4, 2, 3).valuesAt + 3],
];

describe('group-sparse validation', () => {
  const devices = (['mvp', 'simd'] as const).map((build) => ({ build, fault: deviceValidator(build) }));

  it('the sample blob is valid on the host and on both devices', () => {
    const { layer, blob } = sample();
    expect(hostFault(blob, layer.outC, layer.inC)).toBe(-1);
    for (const d of devices) expect(d.fault(blob, layer.outC, layer.inC), d.build).toBe(-1);
  });

  for (const [name, mutate, expected, override] of FAULTS) {
    it(`host and device reject: ${name}`, () => {
      const s = sample();
      const blob = mutate(s.blob, s.view, s.at);
      const outC = override?.outC ?? s.layer.outC, inC = override?.inC ?? s.layer.inC;
      const offset = typeof expected === 'number' ? expected : expected(blob);
      expect(() => validateGroupSparse(blob, outC, inC)).toThrow(FormatError);
      expect(hostFault(blob, outC, inC)).toBe(offset);
      for (const d of devices) expect(d.fault(blob, outC, inC), `${d.build}: ${name}`).toBe(offset);
    });
  }

  it('accepts every encoder output (300 seeded layers, host and both devices)', () => {
    const rng = new Rng(0xacc);
    for (let i = 0; i < 300; i++) {
      const { outC, inC, g, w } = randomLayer(rng);
      const blob = encodeGroupSparse(w, outC, inC, g);
      const label = `case ${i}: outC ${outC} inC ${inC} g ${g}`;
      expect(hostFault(blob, outC, inC), label).toBe(-1);
      for (const d of devices) expect(d.fault(blob, outC, inC), `${d.build} ${label}`).toBe(-1);
    }
  });

  it('device and host agree on 2,000 mutated blobs (same verdict, same offset, no trap)', () => {
    const rng = new Rng(0xf022);
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const { outC, inC, g, w } = randomLayer(rng);
      let blob = encodeGroupSparse(w, outC, inC, g);
      const kind = rng.int(0, 5);
      if (kind === 0) blob = blob.slice(0, rng.int(0, blob.length)); // truncate
      else if (kind === 1) blob = Uint8Array.from([...blob, ...rng.int8Array(rng.int(1, 8)).map((x) => x & 0xff)]); // extend
      else if (kind === 2) blob[rng.int(0, Math.min(blob.length - 1, 15))] = rng.int(0, 255); // header byte
      else {
        for (let m = rng.int(1, 3); m > 0; m--) blob[rng.int(0, blob.length - 1)] = rng.pick([0, 1, 0x80, 0xff, rng.int(0, 255)]);
      }
      const layerOutC = rng.next() < 0.05 ? outC + g : outC, layerInC = rng.next() < 0.05 ? inC + 1 : inC;
      const host = hostFault(blob, layerOutC, layerInC);
      if (host >= 0) rejected++;
      for (const d of devices) {
        const got = d.fault(blob, layerOutC, layerInC);
        if (got !== host) expect.fail(`${d.build} case ${i} (kind ${kind}, outC ${layerOutC} inC ${layerInC} g ${g}, ${blob.length} B): host ${host}, device ${got}`);
      }
    }
    expect(rejected).toBeGreaterThan(500); // the mutations do reach the checks
  });
});
