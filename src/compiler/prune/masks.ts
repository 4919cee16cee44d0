// Pruning masks for an outC x inC weight matrix (row-major: weight (o, i) at o * inC + i).
//
// A mask has one byte per weight, same layout as the weight: 1 keeps it, 0 prunes it.
// Masks are exact: a layer asked for sparsity s over B candidates prunes round(s * B) of them,
// lowest score first, ties broken by position, so a mask is a pure function of its inputs.
// Passing the previous mask makes pruning monotone: weights it pruned are taken first, so a
// gradual schedule never lets a pruned weight grow back.

export type Mask = Uint8Array;

/**
 * L2 norm of every block of g consecutive output channels x 1 input channel:
 * scores[b * inC + i] covers weights (b*g .. b*g+g-1, i). `outC` must be a multiple of g.
 */
export function blockScores(w: Float32Array, outC: number, inC: number, g: number): Float64Array {
  const scores = new Float64Array((outC / g) * inC);
  for (let o = 0; o < outC; o++) {
    const row = Math.floor(o / g) * inC;
    for (let i = 0; i < inC; i++) scores[row + i] += w[o * inC + i] * w[o * inC + i];
  }
  for (let k = 0; k < scores.length; k++) scores[k] = Math.sqrt(scores[k]);
  return scores;
}

/** Positions of the `count` smallest keys (ties: lower position first). */
export function smallest(keys: ArrayLike<number>, count: number, positions?: Int32Array): Int32Array {
  const order = positions ? positions.slice() : Int32Array.from({ length: keys.length }, (_, k) => k);
  order.sort((a, b) => keys[a] - keys[b] || a - b);
  return order.subarray(0, Math.max(0, Math.min(count, order.length)));
}

/**
 * Group mask: prunes round(sparsity * blocks) whole g x 1 blocks, smallest L2 norm first.
 * `previous` (a mask of the same shape) ranks its pruned blocks below every live one.
 */
export function groupMask(w: Float32Array, outC: number, inC: number, g: number, sparsity: number, previous?: Mask): Mask {
  const scores = blockScores(w, outC, inC, g);
  if (previous) for (let k = 0; k < scores.length; k++) if (!previous[blockFirstWeight(k, inC, g)]) scores[k] = -1;
  const mask = new Uint8Array(outC * inC).fill(1);
  for (const k of smallest(scores, Math.round(sparsity * scores.length))) {
    const first = blockFirstWeight(k, inC, g);
    for (let r = 0; r < g; r++) mask[first + r * inC] = 0;
  }
  return mask;
}

function blockFirstWeight(block: number, inC: number, g: number): number {
  return Math.floor(block / inC) * g * inC + (block % inC);
}

/**
 * 2:4 mask: in every run of 4 consecutive input channels of an output channel, the 2
 * smallest-magnitude weights are the candidates; the round(sparsity * outC * inC) smallest
 * candidates are pruned, so sparsity 0.5 zeroes exactly 2 of every 4 and a gradual schedule
 * can approach 0.5 from below. A trailing run shorter than 4 (inC % 4 != 0) stays dense.
 */
export function nmMask(w: Float32Array, outC: number, inC: number, sparsity: number, previous?: Mask): Mask {
  const key = (j: number): number => (previous && !previous[j] ? -1 : Math.abs(w[j]));
  const runs = Math.floor(inC / 4);
  const candidates = new Int32Array(outC * runs * 2);
  let n = 0;
  const run = new Int32Array(4);
  for (let o = 0; o < outC; o++) {
    for (let r = 0; r < runs; r++) {
      for (let t = 0; t < 4; t++) run[t] = o * inC + r * 4 + t;
      run.sort((a, b) => key(a) - key(b) || a - b);
      candidates[n++] = run[0];
      candidates[n++] = run[1];
    }
  }
  const keys = new Float64Array(w.length);
  for (const j of candidates) keys[j] = key(j);
  const mask = new Uint8Array(outC * inC).fill(1);
  for (const j of smallest(keys, Math.round(sparsity * outC * inC), candidates)) mask[j] = 0;
  return mask;
}

/** Zeroes the weights `mask` prunes (exact +0, whatever training did to them). */
export function applyMask(w: Float32Array, mask: Mask): void {
  for (let i = 0; i < w.length; i++) if (!mask[i]) w[i] = 0;
}

/** Fraction of entries the mask prunes. */
export function maskSparsity(mask: Mask): number {
  let pruned = 0;
  for (let i = 0; i < mask.length; i++) if (!mask[i]) pruned++;
  return mask.length ? pruned / mask.length : 0;
}
