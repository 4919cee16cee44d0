// Int8 multiply-accumulate layers written from the TensorFlow Lite Micro int8 spec
// (reference per-channel conv / depthwise conv / fully connected), NHWC, batch 1.
// Independent of the device code: plain loops over typed arrays, requantization from
// ./requant.ts.
import { mbqm } from './requant.js';

export interface OutputStage {
  /** int32 [channels] or null (no bias). */
  bias: Int32Array | null;
  /** int32 [channels][2]: Q31 multiplier, shift (positive = left). */
  requant: Int32Array;
  outZp: number;
  actMin: number;
  actMax: number;
}

export interface ConvGeometry {
  inH: number; inW: number; inC: number;
  kH: number; kW: number;
  outH: number; outW: number;
  strideH: number; strideW: number;
  padTop: number; padLeft: number;
}

function finish(acc: number, c: number, s: OutputStage): number {
  if (s.bias) acc = (acc + s.bias[c]) | 0;
  const v = mbqm(acc, s.requant[2 * c], s.requant[2 * c + 1]) + s.outZp;
  return Math.min(s.actMax, Math.max(s.actMin, v));
}

/** TFLite's padding: SAME pads so that out = ceil(in / stride), extra pixel at the end. */
export function convPadding(kind: 'SAME' | 'VALID', inSize: number, k: number, stride: number): { out: number; before: number } {
  if (kind === 'VALID') return { out: Math.floor((inSize - k) / stride) + 1, before: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

/** filter [outC][kH][kW][inC]; returns int8 [outH][outW][outC]. */
export function conv2d(x: Int8Array, inZp: number, w: Int8Array, outC: number, g: ConvGeometry, s: OutputStage): Int8Array {
  const y = new Int8Array(g.outH * g.outW * outC);
  for (let oy = 0; oy < g.outH; oy++)
    for (let ox = 0; ox < g.outW; ox++)
      for (let oc = 0; oc < outC; oc++) {
        let acc = 0;
        for (let ky = 0; ky < g.kH; ky++)
          for (let kx = 0; kx < g.kW; kx++) {
            const iy = oy * g.strideH - g.padTop + ky;
            const ix = ox * g.strideW - g.padLeft + kx;
            if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;
            for (let ic = 0; ic < g.inC; ic++) {
              acc += w[((oc * g.kH + ky) * g.kW + kx) * g.inC + ic] * (x[(iy * g.inW + ix) * g.inC + ic] - inZp);
            }
          }
        y[(oy * g.outW + ox) * outC + oc] = finish(acc, oc, s);
      }
  return y;
}

/** Depth multiplier 1: filter [1][kH][kW][C] with C = g.inC; returns int8 [outH][outW][C]. */
export function depthwiseConv2d(x: Int8Array, inZp: number, w: Int8Array, g: ConvGeometry, s: OutputStage): Int8Array {
  const C = g.inC;
  const y = new Int8Array(g.outH * g.outW * C);
  for (let oy = 0; oy < g.outH; oy++)
    for (let ox = 0; ox < g.outW; ox++)
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let ky = 0; ky < g.kH; ky++)
          for (let kx = 0; kx < g.kW; kx++) {
            const iy = oy * g.strideH - g.padTop + ky;
            const ix = ox * g.strideW - g.padLeft + kx;
            if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;
            acc += w[(ky * g.kW + kx) * C + c] * (x[(iy * g.inW + ix) * C + c] - inZp);
          }
        y[(oy * g.outW + ox) * C + c] = finish(acc, c, s);
      }
  return y;
}

/** Fully connected (also a 1x1 conv over `rows` pixels): filter [outC][inC]; returns [rows][outC]. */
export function fullyConnected(x: Int8Array, rows: number, inC: number, inZp: number, w: Int8Array, outC: number, s: OutputStage): Int8Array {
  const y = new Int8Array(rows * outC);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < outC; c++) {
      let acc = 0;
      for (let k = 0; k < inC; k++) acc += w[c * inC + k] * (x[r * inC + k] - inZp);
      y[r * outC + c] = finish(acc, c, s);
    }
  return y;
}
