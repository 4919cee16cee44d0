// Dense or group-sparse, per layer: every 1x1 convolution and fully connected layer whose
// int8 weights have zero groups is priced both ways with the measured cost model of the
// target build (sparse_choice.ts), and rewritten to its SPARSE_ op when that is cheaper.
// The sparse op reads a group-sparse blob (docs/sparse.md) that takes the filter's name and
// place; the arena does not change (the sparse kernels need no scratch).

import { encodeGroupSparse, nonzeroGroups, sparseBlobBytes } from '../formats/sparse.js';
import { DType, Op } from '../formats/schema.js';
import { count, type Draft, type LoweredOp } from './lower_ops.js';
import { chooseSparse } from './sparse_choice.js';

export type SparseMode = 'auto' | 'never' | 'always';
export type TargetBuild = 'mvp' | 'simd';

/** What the compiler decided for one candidate layer, and why. */
export interface SparseDecision {
  op: number;
  /** The layer's output tensor. */
  name: string;
  kind: 'conv1x1' | 'fc';
  /** Group size of the best sparse encoding (output channels per block). */
  group: number;
  /** Fraction of all-zero groups at that group size. */
  sparsity: number;
  sparse: boolean;
  /** Cost-model estimates for one inference of this layer on the target build (relative units). */
  denseCost: number;
  sparseCost: number;
  reason: string;
  denseBytes: number;
  sparseBytes: number;
}

const GROUPS = [8, 4, 2, 1];

/**
 * Rewrites the lowered ops in place where the sparse form pays (or always / never), adding
 * the blobs to `drafts` under the filters' names. Returns one decision per candidate layer.
 */
export function applySparseLayouts(lowered: LoweredOp[], drafts: Map<string, Draft>, build: TargetBuild, mode: SparseMode): SparseDecision[] {
  const readers = new Map<string, number>();
  for (const l of lowered) for (const n of l.inputs) if (n !== undefined) readers.set(n, (readers.get(n) ?? 0) + 1);
  const decisions: SparseDecision[] = [];
  lowered.forEach((l, k) => {
    if (l.code !== Op.CONV1X1 && l.code !== Op.FULLY_CONNECTED) return;
    const w = drafts.get(l.inputs[1]!)!;
    if (readers.get(w.name)! > 1) return; // a filter shared by two ops keeps its dense form
    const kind = l.code === Op.CONV1X1 ? 'conv1x1' : 'fc';
    const outC = w.shape[0];
    const inC = count(w.shape) / outC;
    const out = drafts.get(l.output)!;
    const rows = count(out.shape) / outC;
    const weights = Int8Array.from(w.data!);
    let best: SparseDecision | undefined;
    for (const g of GROUPS.filter((g) => outC % g === 0)) {
      const groups = nonzeroGroups(weights, outC, inC, g);
      const choice = chooseSparse(kind, rows, inC, outC, g, groups, build);
      const sparseBytes = sparseBlobBytes(outC, inC, g, groups);
      const d: SparseDecision = {
        op: k, name: l.output, kind, group: g, sparsity: 1 - groups / ((outC / g) * inC), sparse: choice.sparse,
        denseCost: choice.denseCost, sparseCost: choice.sparseCost, reason: choice.reason, denseBytes: outC * inC, sparseBytes,
      };
      if (!best || d.sparseCost < best.sparseCost) best = d;
    }
    if (!best) return;
    if (mode !== 'auto') {
      best.sparse = mode === 'always';
      best.reason = mode === 'always' ? 'sparse forced by the sparse=always option' : 'dense forced by the sparse=never option';
    }
    decisions.push(best);
    if (!best.sparse) return;
    const blob = encodeGroupSparse(weights, outC, inC, best.group);
    drafts.set(w.name, { ...w, dtype: DType.UINT8, shape: [blob.length], data: blob, role: 'weight' });
    l.code = l.code === Op.CONV1X1 ? Op.SPARSE_CONV1X1 : Op.SPARSE_FULLY_CONNECTED;
  });
  return decisions;
}
