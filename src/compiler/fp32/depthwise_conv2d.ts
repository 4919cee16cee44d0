// Depthwise convolution, depth multiplier 1, with fused activation.
// x [N, inH, inW, C], weight [1, kH, kW, C], bias [C] -> y [N, outH, outW, C].

import type { DepthwiseConv2dNode } from '../graph.js';
import { activationBackward, applyActivation } from './activation.js';
import { gradOf, type Fp32Op } from './op.js';
import { windowGeometry, type WindowGeometry } from './window.js';

function geometry(node: DepthwiseConv2dNode, inShape: readonly number[], batch: number): WindowGeometry {
  const [, kH, kW] = node.weight.shape;
  return windowGeometry(inShape, batch, [kH, kW], node.stride, node.padding);
}

export function depthwiseForward(g: WindowGeometry, x: Float32Array, w: Float32Array, b: Float32Array): Float32Array {
  const { inH, inW, inC: C, outH, outW, kH, kW } = g;
  const y = new Float32Array(g.batch * outH * outW * C);
  for (let n = 0; n < g.batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * g.strideW - g.padLeft;
        const o = ((n * outH + oy) * outW + ox) * C;
        for (let c = 0; c < C; c++) y[o + c] = b[c];
        for (let ky = 0; ky < kH; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const xi = ((n * inH + iy) * inW + ix) * C;
            const wi = (ky * kW + kx) * C;
            for (let c = 0; c < C; c++) y[o + c] += x[xi + c] * w[wi + c];
          }
        }
      }
    }
  }
  return y;
}

/** Adds dL/dw and dL/db into dw, db; returns dL/dx. `dy` is dL/d(pre-activation output). */
export function depthwiseBackward(
  g: WindowGeometry, x: Float32Array, w: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array,
): Float32Array {
  const { inH, inW, inC: C, outH, outW, kH, kW } = g;
  const dx = new Float32Array(x.length);
  for (let n = 0; n < g.batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * g.strideW - g.padLeft;
        const o = ((n * outH + oy) * outW + ox) * C;
        for (let c = 0; c < C; c++) db[c] += dy[o + c];
        for (let ky = 0; ky < kH; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) continue;
            const xi = ((n * inH + iy) * inW + ix) * C;
            const wi = (ky * kW + kx) * C;
            for (let c = 0; c < C; c++) {
              dx[xi + c] += dy[o + c] * w[wi + c];
              dw[wi + c] += dy[o + c] * x[xi + c];
            }
          }
        }
      }
    }
  }
  return dx;
}

export const depthwiseConv2dOp: Fp32Op<DepthwiseConv2dNode> = {
  forward(node, [x], [inShape], batch) {
    const y = depthwiseForward(geometry(node, inShape, batch), x, node.weight.data, node.bias.data);
    applyActivation(node.activation, y);
    return y;
  },
  backward(node, [x], [inShape], y, dy, batch, grads) {
    const dPre = activationBackward(node.activation, y, dy);
    const g = geometry(node, inShape, batch);
    return [depthwiseBackward(g, x, node.weight.data, dPre, gradOf(grads, node.weight), gradOf(grads, node.bias))];
  },
};
