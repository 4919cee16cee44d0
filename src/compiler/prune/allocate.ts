// Splitting one sparsity target over several layers.
//
// - global magnitude: every block of every layer is ranked by its L2 norm divided by the
//   layer's reference block norm, sqrt(g) * RMS of the layer's weights before pruning (the
//   norm a typical block of that layer has), so layers of different scale compete fairly;
//   the lowest blocks are pruned until the target fraction of all the layers' weights is
//   reached.
// - sensitivity: each layer gets the largest sparsity whose accuracy drop, measured by
//   layerSensitivity() and interpolated linearly between measured sparsities, stays under
//   a common tolerance; the tolerance is bisected until the layers together reach the target.

import { ValueError } from '../../formats/errors.js';
import type { PruneLayer } from './layers.js';
import { blockScores, type Mask } from './masks.js';

/** Reference block norm of each layer: sqrt(g) * RMS of its weights. Compute before pruning. */
export function referenceBlockNorms(layers: readonly PruneLayer[]): number[] {
  return layers.map(({ node, group }) => {
    const w = node.weight.data;
    let sum = 0;
    for (let i = 0; i < w.length; i++) sum += w[i] * w[i];
    return Math.sqrt(group) * Math.sqrt(sum / w.length) || 1;
  });
}

/**
 * Per-layer sparsities (fractions of each layer's blocks) that prune `sparsity` of all the
 * layers' weights together, by globally ranked normalised block norms. Blocks pruned in
 * `previous` masks rank first (pruning stays monotone).
 */
export function globalMagnitudeTargets(layers: readonly PruneLayer[], norms: readonly number[], sparsity: number, previous?: readonly Mask[]): number[] {
  const entries: { layer: number; score: number; size: number }[] = [];
  let total = 0;
  layers.forEach((l, li) => {
    const scores = blockScores(l.node.weight.data, l.outC, l.inC, l.group);
    scores.forEach((s, k) => {
      const first = Math.floor(k / l.inC) * l.group * l.inC + (k % l.inC);
      const pruned = previous !== undefined && !previous[li][first];
      entries.push({ layer: li, score: pruned ? -1 : s / norms[li], size: l.group });
    });
    total += l.outC * l.inC;
  });
  entries.sort((a, b) => a.score - b.score || a.layer - b.layer);
  const goal = Math.round(sparsity * total);
  const counts = layers.map(() => 0);
  let pruned = 0;
  for (const e of entries) {
    if (pruned + e.size / 2 > goal) break; // nearest total to the goal
    counts[e.layer]++;
    pruned += e.size;
  }
  return layers.map((l, li) => counts[li] / ((l.outC / l.group) * l.inC));
}

/** One row of a sensitivity table: accuracy drop (fraction) when only `layer` is pruned to `sparsity`. */
export interface SensitivityPoint {
  layer: string;
  sparsity: number;
  drop: number;
}

/**
 * Per-layer sparsities reaching `sparsity` of all the layers' weights with the smallest
 * common tolerated drop. A layer never exceeds the largest sparsity it was measured at.
 */
export function sensitivityTargets(layers: readonly PruneLayer[], table: readonly SensitivityPoint[], sparsity: number): number[] {
  const curves = layers.map((l) => {
    const points = table.filter((p) => p.layer === l.node.name).sort((a, b) => a.sparsity - b.sparsity);
    if (points.length === 0) throw new ValueError(`the sensitivity table has no row for layer "${l.node.name}"`);
    let worst = 0; // the drop is made non-decreasing in sparsity
    return [{ sparsity: 0, drop: 0 }, ...points.map((p) => ({ sparsity: p.sparsity, drop: (worst = Math.max(worst, p.drop)) }))];
  });
  const sizes = layers.map((l) => l.outC * l.inC);
  const total = sizes.reduce((a, b) => a + b, 0);
  const at = (tolerance: number): number[] => curves.map((c) => largestWithin(c, tolerance));
  const reached = (s: number[]): number => s.reduce((sum, v, i) => sum + v * sizes[i], 0) / total;
  const most = at(Infinity);
  if (reached(most) < sparsity - 1e-9) {
    throw new ValueError(`sensitivity allocation cannot reach ${sparsity}: the measured sparsities reach at most ${reached(most).toFixed(3)}`);
  }
  let lo = 0;
  let hi = Math.max(...curves.map((c) => c[c.length - 1].drop));
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (reached(at(mid)) >= sparsity) hi = mid;
    else lo = mid;
  }
  // At tolerance `hi` the layers overshoot a little; scale the extra down evenly.
  const over = at(hi);
  const under = at(lo);
  const a = reached(under);
  const b = reached(over);
  const f = b > a ? (sparsity - a) / (b - a) : 1;
  return over.map((s, i) => under[i] + f * (s - under[i]));
}

/** The largest sparsity on a piecewise-linear, non-decreasing drop curve whose drop is <= tolerance. */
function largestWithin(curve: { sparsity: number; drop: number }[], tolerance: number): number {
  let best = 0;
  for (let k = 1; k < curve.length; k++) {
    const p = curve[k - 1];
    const q = curve[k];
    if (q.drop <= tolerance) best = q.sparsity;
    else {
      if (q.drop > p.drop && tolerance >= p.drop) best = p.sparsity + ((tolerance - p.drop) / (q.drop - p.drop)) * (q.sparsity - p.sparsity);
      break;
    }
  }
  return best;
}
