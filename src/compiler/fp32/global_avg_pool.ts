// Global average pooling: x [N, H, W, C] -> y [N, 1, 1, C], the mean over H * W.

import type { GlobalAvgPoolNode } from '../graph.js';
import type { Fp32Op } from './op.js';

export const globalAvgPoolOp: Fp32Op<GlobalAvgPoolNode> = {
  forward(_node, [x], [[H, W, C]], batch) {
    const y = new Float32Array(batch * C);
    const pixels = H * W;
    for (let n = 0; n < batch; n++) {
      for (let p = 0; p < pixels; p++) {
        const i = (n * pixels + p) * C;
        for (let c = 0; c < C; c++) y[n * C + c] += x[i + c];
      }
      for (let c = 0; c < C; c++) y[n * C + c] /= pixels;
    }
    return y;
  },
  backward(_node, [x], [[H, W, C]], _y, dy, batch) {
    const dx = new Float32Array(x.length);
    const pixels = H * W;
    for (let n = 0; n < batch; n++) {
      for (let p = 0; p < pixels; p++) {
        const i = (n * pixels + p) * C;
        for (let c = 0; c < C; c++) dx[i + c] = dy[n * C + c] / pixels;
      }
    }
    return [dx];
  },
};
