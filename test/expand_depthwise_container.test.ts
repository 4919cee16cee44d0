// EXPAND_DEPTHWISE records: every rule of docs/format.md for the fused op, broken one at a
// time in the reference CNN lowered with fuse 'always' (pw1 -> dw2 streamed); the host reader
// and both device builds must report the same Status at the same byte offset.
import { describe, expect, it } from 'vitest';
import { writeContainer } from '../src/formats/container.js';
import { Op, Status } from '../src/formats/schema.js';
import { lowerModel } from '../src/compiler/lower.js';
import { referenceCnn } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { Layout, withCrc, expectRefusedAlike } from './fixtures/broken.js';
import { BUILDS, instantiate, loadInto } from './helpers/device.js';
import { Rng } from './helpers/rng.js';

const rng = new Rng(0xc0de);
const { container } = lowerModel(quantizeGraph(referenceCnn(1), Float32Array.from({ length: 784 * 4 }, () => rng.next()), { batchSize: 4 }), { sparse: 'never', fuse: 'always' });
const k = container.ops.findIndex((o) => o.op === Op.EXPAND_DEPTHWISE);
const fused = container.ops[k];
const [, w, b, rq] = fused.inputs;
const ring = fused.scratch;
const other = container.ops.find((o) => o.op === Op.CONV2D)!; // conv1: a filter, bias and table of other sizes
const param = (i: number) => (l: Layout) => l.op(k) + 16 + 4 * i;

interface Case { rule: string; mutate(l: Layout): void; at(l: Layout): number }
const CASES: Case[] = [
  { rule: 'no row buffer (scratch 0xFFFF)', mutate: (l) => l.u16(l.op(k) + 14, 0xffff), at: (l) => l.op(k) + 14 },
  { rule: 'row buffer is an ACTIVATION tensor', mutate: (l) => l.u8(l.tensor(ring) + 3, 1), at: (l) => l.op(k) + 14 },
  { rule: 'row buffer shorter than the window (2 rows, kH 3)', mutate: (l) => { l.dims(ring, [1, 2, 14, 16]); l.u32(l.tensor(ring) + 24, 2 * 14 * 16); }, at: (l) => l.op(k) + 14 },
  { rule: 'row buffer taller than the input', mutate: (l) => { l.dims(ring, [1, 15, 14, 16]); l.u32(l.tensor(ring) + 24, 15 * 14 * 16); }, at: (l) => l.op(k) + 14 },
  { rule: 'row buffer width differs from x', mutate: (l) => { l.dims(ring, [1, 6, 7, 32]); }, at: (l) => l.op(k) + 14 },
  { rule: 'row buffer without a scale', mutate: (l) => l.f32(l.tensor(ring) + 28, 0), at: (l) => l.op(k) + 14 },
  { rule: 'w not the concatenated filters', mutate: (l) => l.u16(l.op(k) + 6, other.inputs[1]), at: (l) => l.op(k) + 6 },
  { rule: 'b not 2 x Ce', mutate: (l) => l.u16(l.op(k) + 8, other.inputs[2]), at: (l) => l.op(k) + 8 },
  { rule: 'rq not 2 x Ce rows', mutate: (l) => l.u16(l.op(k) + 10, other.inputs[3]), at: (l) => l.op(k) + 10 },
  { rule: 'a depthwise rq multiplier out of range', mutate: (l) => l.i32(l.constAt(rq, 8 * 16), 5), at: (l) => l.constAt(rq, 8 * 16) },
  { rule: 'an expand rq shift out of range', mutate: (l) => l.i32(l.constAt(rq, 4), 31), at: (l) => l.constAt(rq, 4) },
  { rule: 'window height 0', mutate: (l) => l.i32(param(6)(l), 0), at: param(6) },
  { rule: 'window taller than the row buffer (7 > 6 rows)', mutate: (l) => l.i32(param(6)(l), 7), at: (l) => l.op(k) + 14 },
  { rule: 'expand clamp min above max', mutate: (l) => { l.i32(param(8)(l), 10); l.i32(param(9)(l), 9); }, at: param(9) },
  { rule: 'stride 1 for a stride-2 output', mutate: (l) => l.i32(param(0)(l), 1), at: (l) => l.op(k) + 12 },
  { rule: 'param 10 not 0', mutate: (l) => l.i32(param(10)(l), 1), at: param(10) },
];

describe('EXPAND_DEPTHWISE records: host and device reject the same bytes at the same offset', () => {
  const base = writeContainer(container);
  const executors = BUILDS.map((build) => [build, instantiate(build)] as const);

  it('the valid container loads on both builds; the op streams pw1 into dw2', () => {
    expect(container.names![fused.output]).toBe('dw2');
    expect(container.tensors[ring].shape).toEqual([1, 6, 14, 16]); // 2 x kH rows
    expect(container.tensors[w].shape).toEqual([16 * 8 + 9 * 16]);
    expect(container.tensors[b].shape).toEqual([32]);
    for (const [build, ex] of executors) expect({ build, status: Status[loadInto(ex, base).status] }).toEqual({ build, status: 'OK' });
  });

  for (const c of CASES) {
    it(`${c.rule} -> BAD_OP`, () => {
      const layout = new Layout(base.slice());
      c.mutate(layout);
      const bytes = withCrc(layout.bytes);
      const at = c.at(new Layout(base));
      expectRefusedAlike(bytes, c.rule, Status.BAD_OP, at, executors, k);
    });
  }
});
