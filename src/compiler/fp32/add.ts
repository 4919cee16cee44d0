// Elementwise a + b (same shapes) with fused activation; dL/da = dL/db = dL/d(pre-activation).

import type { AddNode } from '../graph.js';
import { activationBackward, applyActivation } from './activation.js';
import type { Fp32Op } from './op.js';

export const addOp: Fp32Op<AddNode> = {
  forward(node, [a, b]) {
    const y = new Float32Array(a.length);
    for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i];
    applyActivation(node.activation, y);
    return y;
  },
  backward(node, _inputs, _shapes, y, dy) {
    const dPre = activationBackward(node.activation, y, dy);
    return [dPre, dPre.slice()];
  },
};
