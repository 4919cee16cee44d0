// Softmax over the last dimension (max-subtracted for stability).
// Backward: dx = y * (dy - sum(dy * y)) per row.

import type { SoftmaxNode } from '../graph.js';
import type { Fp32Op } from './op.js';

/** Row-wise softmax of x [rows, D] into a new array. */
export function softmaxRows(x: Float32Array, D: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += D) {
    let max = -Infinity;
    for (let i = 0; i < D; i++) max = Math.max(max, x[r + i]);
    let sum = 0;
    for (let i = 0; i < D; i++) sum += (y[r + i] = Math.exp(x[r + i] - max));
    for (let i = 0; i < D; i++) y[r + i] /= sum;
  }
  return y;
}

export const softmaxOp: Fp32Op<SoftmaxNode> = {
  forward: (node, [x]) => softmaxRows(x, node.shape[node.shape.length - 1]),
  backward(node, _inputs, _shapes, y, dy) {
    const D = node.shape[node.shape.length - 1];
    const dx = new Float32Array(y.length);
    for (let r = 0; r < y.length; r += D) {
      let dot = 0;
      for (let i = 0; i < D; i++) dot += dy[r + i] * y[r + i];
      for (let i = 0; i < D; i++) dx[r + i] = y[r + i] * (dy[r + i] - dot);
    }
    return [dx];
  },
};
