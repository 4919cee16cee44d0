// ReLU and ReLU6, standalone or fused into the op that produces their input.
// Backward uses the activation's OUTPUT as its mask: relu passes the gradient where
// y > 0, relu6 where 0 < y < 6 (the derivative at a kink is taken as 0, as TFLite's
// training ops and the device's 1-bit masks do).

import type { Activation, ActivationNode } from '../graph.js';
import type { Fp32Op } from './op.js';

/** Applies `activation` to `y` in place. */
export function applyActivation(activation: Activation, y: Float32Array): void {
  if (activation === 'none') return;
  const hi = activation === 'relu6' ? 6 : Infinity;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    y[i] = v < 0 ? 0 : v > hi ? hi : v;
  }
}

/** dL/d(pre-activation) from the activation's output `y` and dL/dy; `dy` is not modified. */
export function activationBackward(activation: Activation, y: Float32Array, dy: Float32Array): Float32Array {
  if (activation === 'none') return dy;
  const hi = activation === 'relu6' ? 6 : Infinity;
  const dx = new Float32Array(dy.length);
  for (let i = 0; i < dy.length; i++) {
    const v = y[i];
    if (v > 0 && v < hi) dx[i] = dy[i];
  }
  return dx;
}

export const activationOp: Fp32Op<ActivationNode> = {
  forward(node, [x]) {
    const y = x.slice();
    applyActivation(node.kind, y);
    return y;
  },
  backward(node, _inputs, _shapes, y, dy) {
    return [activationBackward(node.kind, y, dy)];
  },
};
