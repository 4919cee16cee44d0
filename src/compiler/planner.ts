// The arena planner: gives every SRAM buffer of a static schedule a byte offset in one
// arena, so that buffers alive at the same time never overlap. Generic: it knows buffers,
// sizes and lifetimes (op indices), nothing about models. See docs/memory.md.
//
// Placement follows TensorFlow Lite Micro's GreedyMemoryPlanner: largest first, each at the
// lowest aligned offset that collides with no already-placed buffer whose lifetime overlaps.
// Before placement, buffers that share memory are merged into one "slot":
//   - aliasOf: the buffer *is* another buffer's memory (a reshape's output). Always merged.
//   - inPlaceOf: the buffer may overwrite an input that dies at the op writing it (an
//     elementwise add). Merged only when that input (with all its aliases) is dead after
//     this buffer's first op; otherwise planned on its own.

import { ALIGN, Category } from '../formats/schema.js';
import { SparrowError } from '../formats/errors.js';

export interface PlanBuffer {
  /** Unique key; the lowering uses the tensor index. */
  id: number;
  name: string;
  bytes: number;
  /** First op (index in the schedule) at which the buffer holds data; 0 for graph inputs. */
  first: number;
  /** Last op that reads it (inclusive); the last op of the schedule for graph outputs. */
  last: number;
  category: Category;
  /** Shares exactly the memory of buffer `aliasOf` (same offset). */
  aliasOf?: number;
  /** May reuse the memory of input buffer `inPlaceOf` if that input dies at op `first`. */
  inPlaceOf?: number;
  /** Label of the op that writes this buffer, for reports ("op 3 conv2d"). */
  producer?: string;
}

/** Arena use while op `op` runs. */
export interface OpUsage {
  op: number;
  /** Bytes of distinct memory held by live buffers (shared memory counted once). */
  liveBytes: number;
  /** One past the highest arena byte any live buffer occupies. */
  highWater: number;
}

export interface ArenaPlan {
  buffers: PlanBuffer[];
  /** Arena byte offset of every buffer, by id; a multiple of `align`. */
  offsets: Map<number, number>;
  /** Buffers placed on another buffer's memory: id -> id of the buffer whose memory it uses. */
  sharesWith: Map<number, number>;
  /** max(offset + bytes) over all buffers, rounded up to `align`: the arena to allocate. */
  arenaBytes: number;
  /** One entry per op, index = op. */
  timeline: OpUsage[];
  /**
   * The op at which the high-water mark is reached; among several, the one with the most live
   * bytes (the buffers that explain the peak), then the earliest.
   */
  peakOp: number;
  /** Live bytes at `peakOp` by category name (ACTIVATION, SCRATCH, ...). */
  breakdown: Partial<Record<keyof typeof Category, number>>;
  /**
   * Per category, the most bytes of it live at any one op (shared memory counted once): the
   * per-category high-water marks the executor measures (high_water_of).
   */
  categoryPeaks: Partial<Record<keyof typeof Category, number>>;
  /** Ids of the buffers live at `peakOp`, one per piece of shared memory, largest first. */
  liveAtPeak: number[];
}

export interface PlanOptions {
  /** Offset alignment in bytes (power of two); default ALIGN (16). */
  align?: number;
  /** Length of the schedule; default max(last) + 1. */
  opCount?: number;
}

/** A set of buffers sharing one arena region. */
interface Slot {
  members: PlanBuffer[];
  bytes: number;
  first: number;
  last: number;
  offset: number;
}

export function planArena(buffers: PlanBuffer[], options: PlanOptions = {}): ArenaPlan {
  const align = options.align ?? ALIGN;
  if (!(align > 0 && (align & (align - 1)) === 0)) throw new SparrowError(`planArena: align must be a power of two, got ${align}`);
  validate(buffers);
  const opCount = Math.max(options.opCount ?? 0, ...buffers.map((b) => b.last + 1), 0);

  const { slotOf, sharesWith } = mergeSharedMemory(buffers);
  const slots = [...new Set(slotOf.values())];
  placeGreedy(slots, align);

  const offsets = new Map<number, number>();
  let end = 0;
  for (const b of buffers) {
    const slot = slotOf.get(b.id)!;
    offsets.set(b.id, slot.offset);
    end = Math.max(end, slot.offset + b.bytes);
  }
  const arenaBytes = roundUp(end, align);

  const timeline: OpUsage[] = [];
  const categoryPeaks: Partial<Record<keyof typeof Category, number>> = {};
  for (let op = 0; op < opCount; op++) {
    let liveBytes = 0;
    let highWater = 0;
    const byCategory = new Map<keyof typeof Category, number>();
    for (const s of slots) {
      if (s.first <= op && op <= s.last && s.bytes > 0) {
        liveBytes += s.bytes;
        highWater = Math.max(highWater, s.offset + s.bytes);
        const key = Category[holderAt(s, op).category] as keyof typeof Category;
        byCategory.set(key, (byCategory.get(key) ?? 0) + s.bytes);
      }
    }
    timeline.push({ op, liveBytes, highWater });
    for (const [key, bytes] of byCategory) categoryPeaks[key] = Math.max(categoryPeaks[key] ?? 0, bytes);
  }
  let peakOp = 0;
  for (const u of timeline) {
    const p = timeline[peakOp];
    if (u.highWater > p.highWater || (u.highWater === p.highWater && u.liveBytes > p.liveBytes)) peakOp = u.op;
  }

  const breakdown: Partial<Record<keyof typeof Category, number>> = {};
  const liveAtPeak: PlanBuffer[] = [];
  for (const s of slots) {
    if (!(s.first <= peakOp && peakOp <= s.last) || s.bytes === 0) continue;
    const holder = holderAt(s, peakOp);
    liveAtPeak.push(holder);
    const key = Category[holder.category] as keyof typeof Category;
    breakdown[key] = (breakdown[key] ?? 0) + s.bytes;
  }
  liveAtPeak.sort((a, b) => slotOf.get(b.id)!.bytes - slotOf.get(a.id)!.bytes || a.id - b.id);

  return { buffers, offsets, sharesWith, arenaBytes, timeline, peakOp, breakdown, categoryPeaks, liveAtPeak: liveAtPeak.map((b) => b.id) };
}

/** The sum of every buffer's size, as if nothing were reused: what planning saves against. */
export function naiveArenaBytes(buffers: PlanBuffer[], align = ALIGN): number {
  return buffers.reduce((sum, b) => sum + roundUp(b.bytes, align), 0);
}

export function roundUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

function validate(buffers: PlanBuffer[]): void {
  const byId = new Map<number, PlanBuffer>();
  for (const b of buffers) {
    const what = `buffer ${b.id} '${b.name}'`;
    if (byId.has(b.id)) throw new SparrowError(`planArena: duplicate buffer id ${b.id} ('${byId.get(b.id)!.name}' and '${b.name}')`);
    if (!Number.isSafeInteger(b.bytes) || b.bytes < 0) throw new SparrowError(`planArena: ${what} has size ${b.bytes}; sizes are whole bytes >= 0`);
    if (!Number.isSafeInteger(b.first) || !Number.isSafeInteger(b.last) || b.first < 0 || b.last < b.first) {
      throw new SparrowError(`planArena: ${what} has lifetime [${b.first}, ${b.last}]; need 0 <= first <= last`);
    }
    byId.set(b.id, b);
  }
  for (const b of buffers) {
    for (const [field, target] of [['aliasOf', b.aliasOf], ['inPlaceOf', b.inPlaceOf]] as const) {
      if (target === undefined) continue;
      if (!byId.has(target) || target === b.id) throw new SparrowError(`planArena: buffer ${b.id} '${b.name}' has ${field} ${target}, which is not another buffer`);
    }
  }
}

/**
 * Groups buffers into slots. Aliases first (unconditional, so every slot's lifetime is final
 * before an in-place decision reads it), then in-place requests in schedule order.
 */
function mergeSharedMemory(buffers: PlanBuffer[]) {
  const slotOf = new Map<number, Slot>();
  for (const b of buffers) slotOf.set(b.id, { members: [b], bytes: b.bytes, first: b.first, last: b.last, offset: 0 });
  const sharesWith = new Map<number, number>();
  const merge = (into: Slot, from: Slot) => {
    if (into === from) return;
    into.members.push(...from.members);
    into.bytes = Math.max(into.bytes, from.bytes);
    into.first = Math.min(into.first, from.first);
    into.last = Math.max(into.last, from.last);
    for (const m of from.members) slotOf.set(m.id, into);
  };
  const inSchedule = [...buffers].sort((a, b) => a.first - b.first || a.id - b.id);
  for (const b of inSchedule) {
    if (b.aliasOf === undefined) continue;
    merge(slotOf.get(b.aliasOf)!, slotOf.get(b.id)!);
    sharesWith.set(b.id, b.aliasOf);
  }
  for (const b of inSchedule) {
    if (b.inPlaceOf === undefined || b.aliasOf !== undefined) continue;
    const input = slotOf.get(b.inPlaceOf)!;
    const own = slotOf.get(b.id)!;
    // The input's memory is free from op b.first on only if nothing in its slot is read later.
    if (input !== own && input.last <= b.first && own.first === b.first) {
      merge(input, own);
      sharesWith.set(b.id, b.inPlaceOf);
    }
  }
  return { slotOf, sharesWith };
}

/** Largest first; each slot at the lowest aligned offset clear of every placed slot live at the same time. */
function placeGreedy(slots: Slot[], align: number): void {
  const order = [...slots].sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.members[0].id - b.members[0].id);
  const placed: Slot[] = [];
  for (const s of order) {
    if (s.bytes === 0) continue;
    const overlapping = placed.filter((p) => p.first <= s.last && s.first <= p.last).sort((a, b) => a.offset - b.offset);
    let candidate = 0;
    for (const p of overlapping) {
      if (candidate + s.bytes <= p.offset) break;
      candidate = Math.max(candidate, roundUp(p.offset + p.bytes, align));
    }
    s.offset = candidate;
    placed.push(s);
  }
}

/** The member of a slot that owns its memory at `op`: the live one, the latest written on ties. */
function holderAt(s: Slot, op: number): PlanBuffer {
  let best: PlanBuffer | undefined;
  for (const m of s.members) {
    if (m.first <= op && op <= m.last && (!best || m.first >= best.first)) best = m;
  }
  return best ?? s.members[0];
}
