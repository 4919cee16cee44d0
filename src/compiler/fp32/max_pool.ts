// Max pooling over the in-bounds taps of each window (padding never wins). The gradient
// goes to the first maximum in window order (row-major), so ties are broken the same
// way in forward and backward.

import type { PoolNode } from '../graph.js';
import type { Fp32Op } from './op.js';
import { windowGeometry, type WindowGeometry } from './window.js';

/** Input index of the winning tap for every output element, batch first NHWC. */
function argmax(g: WindowGeometry, x: Float32Array): Int32Array {
  const { inH, inW, inC: C, outH, outW } = g;
  const winner = new Int32Array(g.batch * outH * outW * C);
  for (let n = 0; n < g.batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * g.strideH - g.padTop, 0);
      const y1 = Math.min(oy * g.strideH - g.padTop + g.kH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.max(ox * g.strideW - g.padLeft, 0);
        const x1 = Math.min(ox * g.strideW - g.padLeft + g.kW, inW);
        const o = ((n * outH + oy) * outW + ox) * C;
        for (let c = 0; c < C; c++) {
          let best = -1;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const i = ((n * inH + iy) * inW + ix) * C + c;
              if (best < 0 || x[i] > x[best]) best = i;
            }
          }
          winner[o + c] = best;
        }
      }
    }
  }
  return winner;
}

export const maxPoolOp: Fp32Op<PoolNode> = {
  forward(node, [x], [inShape], batch) {
    const winner = argmax(windowGeometry(inShape, batch, node.filter, node.stride, node.padding), x);
    const y = new Float32Array(winner.length);
    for (let o = 0; o < y.length; o++) y[o] = x[winner[o]];
    return y;
  },
  backward(node, [x], [inShape], _y, dy, batch) {
    const winner = argmax(windowGeometry(inShape, batch, node.filter, node.stride, node.padding), x);
    const dx = new Float32Array(x.length);
    for (let o = 0; o < winner.length; o++) dx[winner[o]] += dy[o];
    return [dx];
  },
};
