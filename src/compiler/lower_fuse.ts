// Expand -> depthwise streaming: a dense CONV1X1 whose output only the next op, a
// DEPTHWISE_CONV2D, reads becomes one EXPAND_DEPTHWISE op (docs/format.md) that never
// materialises the expanded tensor. The device keeps `ringRows` expanded rows in the op's
// SCRATCH tensor (src/runtime/kernels/expand_depthwise_rows.ts), so the arena holds, during
// that op, x + ring + y instead of x + expanded (then expanded + y): MobileNetV2's early
// blocks, where the expanded tensor is the largest buffer of the network, shrink the most.
//
// The fused op reads the pair's constants concatenated (expand first): one filter
// [Ce*Ci + kH*kW*Ce], one bias [2*Ce] (a missing bias becomes zeros, the same sums) and one
// requantization table [2*Ce, 2]; the ring records the expanded tensor's scale and zero point.

import { DType, Op } from '../formats/schema.js';
import type { Draft, LoweredOp } from './lower_ops.js';

/**
 * `auto`: stream every eligible pair when the unfused plan does not fit the device's SRAM
 * budget (no device: never); `always` / `never`; `{ only }`: the pairs whose expanded tensor
 * is listed (the train-step lowering names the frozen ones).
 */
export type FuseMode = 'auto' | 'never' | 'always' | { only: string[] };

/**
 * The QModel tensors one EXPAND_DEPTHWISE op stands for (container META `fusedPairs`, in the
 * order of the fused ops): what `unpack` (raise.ts) names the two ops it splits it back into.
 */
export interface PairSources {
  /** The depthwise output (the fused op's output). */
  output: string;
  /** The expanded tensor [1, H, W, Ce] (the ring holds its quantization). */
  expanded: string;
  /** [expand, depthwise] filters and biases; null: the op had no bias (the fused op adds zeros). */
  weights: [string, string];
  biases: [string | null, string | null];
}

export function pairSources(e: LoweredOp, d: LoweredOp): PairSources {
  return { output: d.output, expanded: e.output, weights: [e.inputs[1]!, d.inputs[1]!], biases: [e.inputs[2] ?? null, d.inputs[2] ?? null] };
}

/** A lowered op that names a SCRATCH tensor (a draft live only while the op runs). */
export interface ScratchOp extends LoweredOp {
  scratch: string;
}

export function hasScratch(l: LoweredOp): l is ScratchOp {
  return typeof (l as ScratchOp).scratch === 'string';
}

/**
 * Rows of the expanded tensor the ring holds: twice the window height (or the whole input).
 * With kH rows every output row moves kH - stride rows up and makes one short call of each
 * kernel; 2 kH rows serve several output rows per move and per call. Measured side by side on
 * MobileNetV2 block shapes (bench/expand_depthwise.ts): SIMD 1.12-1.35x the unfused pair's time
 * with kH rows, 1.03-1.10x with 2 kH; scalar the same either way.
 */
export function ringRowsFor(kH: number, inH: number): number {
  return Math.min(2 * kH, inH);
}

/** Index k of every CONV1X1 at k whose output is read only by the DEPTHWISE_CONV2D at k + 1 (and is no graph output). */
export function fusablePairs(lowered: LoweredOp[], graphOutputs: readonly string[]): number[] {
  const readers = new Map<string, number>();
  for (const l of lowered) for (const n of l.inputs) if (n !== undefined) readers.set(n, (readers.get(n) ?? 0) + 1);
  const pairs: number[] = [];
  for (let k = 0; k + 1 < lowered.length; k++) {
    const [e, d] = [lowered[k], lowered[k + 1]];
    if (e.code !== Op.CONV1X1 || d.code !== Op.DEPTHWISE_CONV2D || d.inputs[0] !== e.output) continue;
    if (readers.get(e.output) !== 1 || graphOutputs.includes(e.output)) continue;
    pairs.push(k);
    k++; // a depthwise output is never a CONV1X1's: pairs cannot chain
  }
  return pairs;
}

/**
 * Replaces the pairs at `pairs` (from fusablePairs, any order) by EXPAND_DEPTHWISE ops, adding
 * the concatenated constants and the rings to `drafts`. The expanded tensors, and constants
 * only the pair read, are marked unused (they leave the container). Returns the new schedule
 * and, per new op, the index of the QModel op it comes from (the depthwise's for a fused op).
 */
export function fusePairs(lowered: LoweredOp[], drafts: Map<string, Draft>, pairs: number[]): { lowered: LoweredOp[]; sources: number[] } {
  const at = new Set(pairs);
  const out: LoweredOp[] = [];
  const sources: number[] = [];
  for (let k = 0; k < lowered.length; k++) {
    if (at.has(k)) {
      out.push(fuse(lowered[k], lowered[k + 1], drafts));
      sources.push(++k);
    } else {
      out.push(lowered[k]);
      sources.push(k);
    }
  }
  const read = new Set(out.flatMap((l) => l.inputs.filter((n): n is string => n !== undefined)));
  for (const k of at) {
    for (const n of [...lowered[k].inputs, ...lowered[k + 1].inputs.slice(1), lowered[k].output]) {
      const d = n === undefined ? undefined : drafts.get(n);
      if (!d || read.has(d.name)) continue;
      d.used = false;
      if (d.channelScales !== undefined && !out.some((l) => l.inputs.some((i) => i !== undefined && drafts.get(i)?.channelScales === d.channelScales))) {
        drafts.get(d.channelScales)!.used = false;
      }
    }
  }
  return { lowered: out, sources };
}

function fuse(e: LoweredOp, d: LoweredOp, drafts: Map<string, Draft>): ScratchOp {
  const get = (n: string | undefined) => (n === undefined ? undefined : drafts.get(n)!);
  const [x, we, be, rqe] = e.inputs.map(get);
  const [, wd, bd, rqd] = d.inputs.map(get);
  const mid = get(e.output)!;
  const [, inH, inW, inC] = x!.shape;
  const ce = we!.shape[0];
  const [, kH, kW] = wd!.shape;
  const name = (suffix: string) => unique(drafts, `${d.output}.${suffix}`);
  const add = (n: string, role: Draft['role'], dtype: DType, shape: number[], data: ArrayLike<number>) => {
    drafts.set(n, { name: n, dtype, shape, role, scale: 0, zeroPoint: 0, data, used: true });
    return n;
  };
  const w = add(name('fused_weights'), 'weight', DType.INT8, [ce * inC + kH * kW * ce], [...Array.from(we!.data!), ...Array.from(wd!.data!)]);
  const zeros = new Array<number>(ce).fill(0);
  const b = be || bd ? add(name('fused_bias'), 'bias', DType.INT32, [2 * ce], [...Array.from(be?.data ?? zeros), ...Array.from(bd?.data ?? zeros)]) : undefined;
  const rq = add(name('fused_requant'), 'requant', DType.INT32, [2 * ce, 2], [...Array.from(rqe!.data!), ...Array.from(rqd!.data!)]);
  const ring = name('rows');
  drafts.set(ring, {
    name: ring, dtype: DType.INT8, shape: [1, ringRowsFor(kH, inH), inW, ce], role: 'activation',
    scale: mid.scale, zeroPoint: mid.zeroPoint, quant: mid.quant, used: true,
  });
  // d.params: strideH, strideW, padTop, padLeft, actMin, actMax; e.params[4..5]: the expand's clamp
  return { code: Op.EXPAND_DEPTHWISE, inputs: [x!.name, w, b, rq], output: d.output, params: [...d.params.slice(0, 6), kH, kW, e.params[4], e.params[5]], scratch: ring };
}

function unique(drafts: Map<string, Draft>, base: string): string {
  let name = base;
  for (let k = 2; drafts.has(name); k++) name = `${base}#${k}`;
  return name;
}
