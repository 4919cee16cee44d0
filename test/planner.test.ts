import { describe, expect, it } from 'vitest';
import { naiveArenaBytes, planArena, type ArenaPlan, type PlanBuffer } from '../src/compiler/planner.js';
import { SparrowError } from '../src/formats/errors.js';
import { Category } from '../src/formats/schema.js';
import { Rng } from './helpers/rng.js';

const act = (id: number, bytes: number, first: number, last: number, extra: Partial<PlanBuffer> = {}): PlanBuffer => ({
  id, name: `t${id}`, bytes, first, last, category: Category.ACTIVATION, ...extra,
});

describe('planArena: hand-computed plans', () => {
  // t0 100 B [0,0], t1 200 B [0,1], t2 64 B [1,2], t3 100 B [2,2]. Largest first:
  // t1 -> 0; t0 (live with t1) -> 208; t3 (live with nobody placed) -> 0;
  // t2 (live with t1 at op 1 and t3 at op 2, both at 0..207) -> 208. Peak at op 0: 208 + 100.
  const buffers = [act(0, 100, 0, 0), act(1, 200, 0, 1), act(2, 64, 1, 2), act(3, 100, 2, 2)];
  const plan = planArena(buffers);

  it('places largest first at the lowest free aligned offset', () => {
    expect([...plan.offsets.entries()].sort((a, b) => a[0] - b[0])).toEqual([[0, 208], [1, 0], [2, 208], [3, 0]]);
  });
  it('reports the exact peak, rounded up to 16', () => {
    expect(plan.arenaBytes).toBe(320);
  });
  it('reports live bytes and the high-water mark per op', () => {
    expect(plan.timeline).toEqual([
      { op: 0, liveBytes: 300, highWater: 308 },
      { op: 1, liveBytes: 264, highWater: 272 },
      { op: 2, liveBytes: 164, highWater: 272 },
    ]);
    expect(plan.peakOp).toBe(0);
    expect(plan.liveAtPeak).toEqual([1, 0]);
    expect(plan.breakdown).toEqual({ ACTIVATION: 300 });
  });
  it('uses less than the naive sum of all buffers', () => {
    expect(naiveArenaBytes(buffers)).toBe(208 + 112 + 64 + 112);
    expect(plan.arenaBytes).toBeLessThan(naiveArenaBytes(buffers));
  });
});

describe('planArena: shared memory', () => {
  it('an alias takes its target offset and extends its lifetime', () => {
    // t1 is a reshape of t0 read until op 3; t2 (op 1..2) must not land on t0/t1.
    const plan = planArena([act(0, 96, 0, 1), act(1, 96, 1, 3, { aliasOf: 0 }), act(2, 96, 1, 2)]);
    expect(plan.offsets.get(1)).toBe(plan.offsets.get(0));
    expect(plan.sharesWith.get(1)).toBe(0);
    expect(plan.offsets.get(2)).not.toBe(plan.offsets.get(0));
    expect(plan.arenaBytes).toBe(192);
    expect(plan.timeline.map((u) => u.liveBytes)).toEqual([96, 192, 192, 96]);
  });
  it('in place is taken when the input dies at the op', () => {
    // add at op 2: a = t0 [0,2], b = t1 [1,2], out t2 [2,3] may overwrite t0.
    const plan = planArena([act(0, 64, 0, 2), act(1, 64, 1, 2), act(2, 64, 2, 3, { inPlaceOf: 0 })]);
    expect(plan.offsets.get(2)).toBe(plan.offsets.get(0));
    expect(plan.sharesWith.get(2)).toBe(0);
    expect(plan.arenaBytes).toBe(128);
  });
  it('in place is refused when the input is read after the op', () => {
    const plan = planArena([act(0, 64, 0, 3), act(1, 64, 1, 2), act(2, 64, 2, 3, { inPlaceOf: 0 })]);
    expect(plan.sharesWith.has(2)).toBe(false);
    expect(plan.arenaBytes).toBe(192);
  });
  it('in place is refused when an alias of the input is read after the op', () => {
    const plan = planArena([act(0, 64, 0, 1), act(1, 64, 1, 3, { aliasOf: 0 }), act(2, 64, 1, 2, { inPlaceOf: 0 })]);
    expect(plan.sharesWith.has(2)).toBe(false);
    expect(plan.offsets.get(2)).not.toBe(plan.offsets.get(0));
  });
  it('chains of in-place ops reuse one region', () => {
    const plan = planArena([act(0, 32, 0, 0), act(1, 32, 0, 1, { inPlaceOf: 0 }), act(2, 32, 1, 2, { inPlaceOf: 1 })]);
    expect(new Set(plan.offsets.values()).size).toBe(1);
    expect(plan.arenaBytes).toBe(32);
  });
});

describe('planArena: report', () => {
  it('breaks the peak down by category and lists contributors largest first', () => {
    const plan = planArena([
      act(0, 400, 0, 1),
      { id: 1, name: 'im2col', bytes: 160, first: 1, last: 1, category: Category.SCRATCH },
      { id: 2, name: 'mask', bytes: 48, first: 0, last: 2, category: Category.MASK },
      act(3, 400, 1, 2),
    ]);
    expect(plan.peakOp).toBe(1);
    expect(plan.breakdown).toEqual({ ACTIVATION: 800, SCRATCH: 160, MASK: 48 });
    expect(plan.liveAtPeak).toEqual([0, 3, 1, 2]);
    expect(plan.timeline[1].liveBytes).toBe(1008);
  });
  it('counts shared memory once', () => {
    const plan = planArena([act(0, 64, 0, 1), act(1, 64, 1, 1, { aliasOf: 0 })]);
    expect(plan.timeline[1].liveBytes).toBe(64);
    expect(plan.liveAtPeak).toHaveLength(1);
  });
  it('honours another alignment', () => {
    const plan = planArena([act(0, 5, 0, 0), act(1, 5, 0, 0)], { align: 4 });
    expect([...plan.offsets.values()].sort()).toEqual([0, 8]);
    expect(plan.arenaBytes).toBe(16);
  });
  it('an empty schedule plans an empty arena', () => {
    const plan = planArena([]);
    expect(plan.arenaBytes).toBe(0);
    expect(plan.timeline).toEqual([]);
  });
});

describe('planArena: bad input names the buffer', () => {
  const cases: [string, PlanBuffer[], RegExp][] = [
    ['duplicate id', [act(0, 1, 0, 0), act(0, 1, 0, 0)], /duplicate buffer id 0/],
    ['negative size', [act(0, -1, 0, 0)], /buffer 0 't0' has size -1/],
    ['fractional size', [act(0, 1.5, 0, 0)], /buffer 0 't0' has size 1.5/],
    ['last before first', [act(0, 1, 3, 2)], /buffer 0 't0' has lifetime \[3, 2\]/],
    ['unknown alias', [act(0, 1, 0, 0, { aliasOf: 7 })], /buffer 0 't0' has aliasOf 7/],
    ['in place of itself', [act(0, 1, 0, 0, { inPlaceOf: 0 })], /buffer 0 't0' has inPlaceOf 0/],
  ];
  for (const [what, buffers, message] of cases) {
    it(what, () => {
      expect(() => planArena(buffers)).toThrow(SparrowError);
      expect(() => planArena(buffers)).toThrow(message);
    });
  }
  it('a bad alignment', () => {
    expect(() => planArena([], { align: 12 })).toThrow(/align must be a power of two, got 12/);
  });
});

/** Random schedules: chains, branches, aliases and in-place requests (some not grantable). */
function randomBuffers(rng: Rng): PlanBuffer[] {
  const n = rng.int(1, 40);
  const ops = rng.int(1, 24);
  const out: PlanBuffer[] = [];
  for (let id = 0; id < n; id++) {
    const first = rng.int(0, ops - 1);
    const last = Math.min(ops - 1, first + rng.int(0, 6));
    const bytes = rng.next() < 0.05 ? 0 : rng.int(1, rng.pick([64, 1000, 20000]));
    const category = rng.pick([Category.ACTIVATION, Category.ACTIVATION, Category.SCRATCH, Category.GRADIENT]);
    const b: PlanBuffer = { id, name: `b${id}`, bytes, first, last, category };
    const earlier = out.filter((o) => o.first <= first && first <= o.last);
    if (earlier.length && rng.next() < 0.25) {
      const t = rng.pick(earlier);
      if (rng.next() < 0.5) b.aliasOf = t.id;
      else b.inPlaceOf = t.id;
    }
    out.push(b);
  }
  return out;
}

function dataRoot(byId: Map<number, PlanBuffer>, id: number): number {
  let b = byId.get(id)!;
  for (let hops = 0; b.aliasOf !== undefined && hops < byId.size; hops++) b = byId.get(b.aliasOf)!;
  return b.id;
}

function checkInvariants(buffers: PlanBuffer[], plan: ArenaPlan, align: number, label: string): void {
  const byId = new Map(buffers.map((b) => [b.id, b]));
  let end = 0;
  for (const b of buffers) {
    const o = plan.offsets.get(b.id)!;
    expect(o % align, `${label}: ${b.name} offset ${o} not aligned`).toBe(0);
    end = Math.max(end, o + b.bytes);
  }
  expect(plan.arenaBytes, `${label}: arenaBytes vs max(offset+bytes)`).toBe(Math.ceil(end / align) * align);
  for (const x of buffers) {
    for (const y of buffers) {
      if (x.id >= y.id || x.bytes === 0 || y.bytes === 0) continue;
      const lo = Math.max(x.first, y.first);
      const hi = Math.min(x.last, y.last);
      if (lo > hi) continue; // never live together
      const ox = plan.offsets.get(x.id)!;
      const oy = plan.offsets.get(y.id)!;
      if (ox + x.bytes <= oy || oy + y.bytes <= ox) continue; // disjoint memory
      // Overlap is allowed only for one piece of data seen twice (aliases), or between two
      // pieces of data where the later one was granted in place and starts at the op where
      // the earlier one (with all its aliases) is read for the last time.
      const rx = dataRoot(byId, x.id);
      const ry = dataRoot(byId, y.id);
      if (rx === ry) continue;
      const span = (root: number) => {
        const members = buffers.filter((b) => dataRoot(byId, b.id) === root);
        return [Math.min(...members.map((b) => b.first)), Math.max(...members.map((b) => b.last))];
      };
      const [sx, sy] = [span(rx), span(ry)];
      const grantedInPlace = (root: number) => plan.sharesWith.has(root) && byId.get(root)!.inPlaceOf !== undefined;
      const [early, late] = grantedInPlace(ry) && sx[1] === sy[0] ? [rx, ry] : [ry, rx];
      const [se, sl] = early === rx ? [sx, sy] : [sy, sx];
      const ok = grantedInPlace(late) && se[1] === sl[0];
      expect(ok, `${label}: ${x.name} [${x.first},${x.last}]@${ox}+${x.bytes} overlaps ${y.name} [${y.first},${y.last}]@${oy}+${y.bytes} (data ${early} then ${late})`).toBe(true);
    }
  }
  // Lower bound: no placement can use less than the bytes live at once.
  const lowerBound = Math.max(0, ...plan.timeline.map((u) => u.liveBytes));
  expect(plan.arenaBytes, `${label}: below the live-bytes lower bound`).toBeGreaterThanOrEqual(lowerBound);
  expect(Math.max(0, ...plan.timeline.map((u) => u.highWater)), `${label}: timeline high water`).toBe(end);
}

describe('planArena: properties over seeded random buffer sets', () => {
  it('never overlaps live buffers, aligns every offset, and stays between the lower bound and the naive sum', () => {
    const rng = new Rng(0x5eed);
    let planned = 0;
    let naive = 0;
    for (let c = 0; c < 300; c++) {
      const buffers = randomBuffers(rng);
      const align = rng.pick([4, 16, 64]);
      const plan = planArena(buffers, { align });
      checkInvariants(buffers, plan, align, `case ${c} (align ${align}, ${JSON.stringify(buffers)})`);
      expect(plan.arenaBytes, `case ${c}: more than the naive sum`).toBeLessThanOrEqual(naiveArenaBytes(buffers, align));
      planned += plan.arenaBytes;
      naive += naiveArenaBytes(buffers, align);
    }
    // Over many schedules, reuse saves a large share of memory.
    expect(planned / naive).toBeLessThan(0.7);
  });

  it('a straight chain needs only its two largest neighbours at once', () => {
    const rng = new Rng(7);
    for (let c = 0; c < 50; c++) {
      const n = rng.int(2, 30);
      const sizes = Array.from({ length: n }, () => 16 * rng.int(1, 200));
      // buffer i is written by op i and read by op i + 1 (the last one is the graph output).
      const buffers = sizes.map((bytes, i) => act(i, bytes, i, Math.min(i + 1, n - 1)));
      const plan = planArena(buffers);
      const pairPeak = Math.max(...sizes.map((s, i) => s + (sizes[i + 1] ?? 0)));
      checkInvariants(buffers, plan, 16, `chain case ${c} sizes ${sizes}`);
      expect(plan.arenaBytes, `chain case ${c} sizes ${sizes}`).toBeGreaterThanOrEqual(pairPeak);
      expect(plan.arenaBytes, `chain case ${c} sizes ${sizes}`).toBeLessThanOrEqual(naiveArenaBytes(buffers));
    }
  });
});
