// Fully connected layer with fused activation. The input is flattened per sample
// (row-major NHWC): x [N, in], weight [out, in], bias [out] -> y [N, out].

import type { FullyConnectedNode } from '../graph.js';
import { activationBackward, applyActivation } from './activation.js';
import { gradOf, type Fp32Op } from './op.js';

export function fullyConnectedForward(x: Float32Array, w: Float32Array, b: Float32Array, batch: number, inDim: number, outDim: number): Float32Array {
  const y = new Float32Array(batch * outDim);
  for (let n = 0; n < batch; n++) {
    const xi = n * inDim;
    for (let o = 0; o < outDim; o++) {
      const wi = o * inDim;
      let acc = b[o];
      for (let i = 0; i < inDim; i++) acc += x[xi + i] * w[wi + i];
      y[n * outDim + o] = acc;
    }
  }
  return y;
}

/** Adds dL/dw and dL/db into dw, db; returns dL/dx. `dy` is dL/d(pre-activation output). */
export function fullyConnectedBackward(
  x: Float32Array, w: Float32Array, dy: Float32Array, batch: number, inDim: number, outDim: number, dw: Float32Array, db: Float32Array,
): Float32Array {
  const dx = new Float32Array(batch * inDim);
  for (let n = 0; n < batch; n++) {
    const xi = n * inDim;
    for (let o = 0; o < outDim; o++) {
      const d = dy[n * outDim + o];
      if (d === 0) continue;
      db[o] += d;
      const wi = o * inDim;
      for (let i = 0; i < inDim; i++) {
        dx[xi + i] += d * w[wi + i];
        dw[wi + i] += d * x[xi + i];
      }
    }
  }
  return dx;
}

export const fullyConnectedOp: Fp32Op<FullyConnectedNode> = {
  forward(node, [x], _shapes, batch) {
    const [outDim, inDim] = node.weight.shape;
    const y = fullyConnectedForward(x, node.weight.data, node.bias.data, batch, inDim, outDim);
    applyActivation(node.activation, y);
    return y;
  },
  backward(node, [x], _shapes, y, dy, batch, grads) {
    const [outDim, inDim] = node.weight.shape;
    const dPre = activationBackward(node.activation, y, dy);
    return [fullyConnectedBackward(x, node.weight.data, dPre, batch, inDim, outDim, gradOf(grads, node.weight), gradOf(grads, node.bias))];
  },
};
