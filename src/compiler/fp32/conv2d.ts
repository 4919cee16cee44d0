// 2-D convolution (and pointwise, its 1x1 case) with fused activation.
// x [N, inH, inW, inC], weight [outC, kH, kW, inC], bias [outC] -> y [N, outH, outW, outC].
// Out-of-bounds taps (padding) read as zero.

import type { Conv2dNode } from '../graph.js';
import { activationBackward, applyActivation } from './activation.js';
import { gradOf, type Fp32Op } from './op.js';
import { windowGeometry, type WindowGeometry } from './window.js';

function geometry(node: Conv2dNode, inShape: readonly number[], batch: number): WindowGeometry {
  const [, kH, kW] = node.weight.shape;
  return windowGeometry(inShape, batch, [kH, kW], node.stride, node.padding);
}

export function conv2dForward(g: WindowGeometry, x: Float32Array, w: Float32Array, b: Float32Array, outC: number): Float32Array {
  const { inH, inW, inC, outH, outW, kH, kW } = g;
  const y = new Float32Array(g.batch * outH * outW * outC);
  let o = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * g.strideW - g.padLeft;
        for (let oc = 0; oc < outC; oc++, o++) {
          let acc = b[oc];
          for (let ky = 0; ky < kH; ky++) {
            const iy = iy0 + ky;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = ix0 + kx;
              if (ix < 0 || ix >= inW) continue;
              const xi = ((n * inH + iy) * inW + ix) * inC;
              const wi = ((oc * kH + ky) * kW + kx) * inC;
              for (let c = 0; c < inC; c++) acc += x[xi + c] * w[wi + c];
            }
          }
          y[o] = acc;
        }
      }
    }
  }
  return y;
}

/** Adds dL/dw and dL/db into dw, db; returns dL/dx. `dy` is dL/d(pre-activation output). */
export function conv2dBackward(
  g: WindowGeometry, x: Float32Array, w: Float32Array, dy: Float32Array, outC: number, dw: Float32Array, db: Float32Array,
): Float32Array {
  const { inH, inW, inC, outH, outW, kH, kW } = g;
  const dx = new Float32Array(x.length);
  let o = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * g.strideH - g.padTop;
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * g.strideW - g.padLeft;
        for (let oc = 0; oc < outC; oc++, o++) {
          const d = dy[o];
          if (d === 0) continue;
          db[oc] += d;
          for (let ky = 0; ky < kH; ky++) {
            const iy = iy0 + ky;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = ix0 + kx;
              if (ix < 0 || ix >= inW) continue;
              const xi = ((n * inH + iy) * inW + ix) * inC;
              const wi = ((oc * kH + ky) * kW + kx) * inC;
              for (let c = 0; c < inC; c++) {
                dx[xi + c] += d * w[wi + c];
                dw[wi + c] += d * x[xi + c];
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

export const conv2dOp: Fp32Op<Conv2dNode> = {
  forward(node, [x], [inShape], batch) {
    const y = conv2dForward(geometry(node, inShape, batch), x, node.weight.data, node.bias.data, node.weight.shape[0]);
    applyActivation(node.activation, y);
    return y;
  },
  backward(node, [x], [inShape], y, dy, batch, grads) {
    const dPre = activationBackward(node.activation, y, dy);
    const g = geometry(node, inShape, batch);
    return [conv2dBackward(g, x, node.weight.data, dPre, node.weight.shape[0], gradOf(grads, node.weight), gradOf(grads, node.bias))];
  },
};
