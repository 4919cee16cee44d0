// Average pooling. Each output averages the in-bounds taps of its window only, so with
// SAME padding a border output divides by fewer than kH * kW (TFLite's rule).

import type { PoolNode } from '../graph.js';
import type { Fp32Op } from './op.js';
import { windowGeometry, type WindowGeometry } from './window.js';

/** Calls visit(outIndexBase, inIndexBase, tapCount) for every (output pixel, in-bounds tap). */
function forEachTap(g: WindowGeometry, visit: (o: number, i: number, taps: number) => void): void {
  const { inH, inW, inC: C, outH, outW } = g;
  for (let n = 0; n < g.batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * g.strideH - g.padTop, 0);
      const y1 = Math.min(oy * g.strideH - g.padTop + g.kH, inH);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.max(ox * g.strideW - g.padLeft, 0);
        const x1 = Math.min(ox * g.strideW - g.padLeft + g.kW, inW);
        const taps = (y1 - y0) * (x1 - x0);
        const o = ((n * outH + oy) * outW + ox) * C;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) visit(o, ((n * inH + iy) * inW + ix) * C, taps);
        }
      }
    }
  }
}

export const avgPoolOp: Fp32Op<PoolNode> = {
  forward(node, [x], [inShape], batch) {
    const g = windowGeometry(inShape, batch, node.filter, node.stride, node.padding);
    const C = g.inC;
    const y = new Float32Array(batch * g.outH * g.outW * C);
    forEachTap(g, (o, i, taps) => {
      for (let c = 0; c < C; c++) y[o + c] += x[i + c] / taps;
    });
    return y;
  },
  backward(node, [x], [inShape], _y, dy, batch) {
    const g = windowGeometry(inShape, batch, node.filter, node.stride, node.padding);
    const C = g.inC;
    const dx = new Float32Array(x.length);
    forEachTap(g, (o, i, taps) => {
      for (let c = 0; c < C; c++) dx[i + c] += dy[o + c] / taps;
    });
    return [dx];
  },
};
