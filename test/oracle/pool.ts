// Oracles for TFLM's int8 AveragePool / MaxPool (reference_integer_ops) and a global average
// pool with the same rounding, from the spec: NHWC, batch 1, only in-bounds taps count.

export interface PoolGeometry {
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  actMin: number;
  actMax: number;
}

/** C integer division (truncates toward zero) of (sum +- count/2) by count. */
export function roundedAverage(sum: number, count: number): number {
  if (count === 0) return 0;
  const half = Math.trunc(count / 2);
  return Math.trunc((sum > 0 ? sum + half : sum - half) / count);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function pool(input: Int8Array, g: PoolGeometry, reduce: (taps: number[]) => number): Int8Array {
  const out = new Int8Array(g.outH * g.outW * g.channels);
  for (let oy = 0; oy < g.outH; oy++) {
    for (let ox = 0; ox < g.outW; ox++) {
      for (let c = 0; c < g.channels; c++) {
        const taps: number[] = [];
        for (let fy = 0; fy < g.filterH; fy++) {
          for (let fx = 0; fx < g.filterW; fx++) {
            const iy = oy * g.strideH - g.padTop + fy;
            const ix = ox * g.strideW - g.padLeft + fx;
            if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;
            taps.push(input[(iy * g.inW + ix) * g.channels + c]);
          }
        }
        out[(oy * g.outW + ox) * g.channels + c] = clamp(reduce(taps), g.actMin, g.actMax);
      }
    }
  }
  return out;
}

export function avgPoolOracle(input: Int8Array, g: PoolGeometry): Int8Array {
  return pool(input, g, (taps) => roundedAverage(taps.reduce((s, x) => s + x, 0), taps.length));
}

export function maxPoolOracle(input: Int8Array, g: PoolGeometry): Int8Array {
  return pool(input, g, (taps) => taps.reduce((m, x) => Math.max(m, x), -128));
}

export function globalAvgPoolOracle(input: Int8Array, inH: number, inW: number, channels: number, actMin: number, actMax: number): Int8Array {
  const out = new Int8Array(channels);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let p = 0; p < inH * inW; p++) sum += input[p * channels + c];
    out[c] = clamp(roundedAverage(sum, inH * inW), actMin, actMax);
  }
  return out;
}

/** TFLite SAME / VALID output size and the top/left padding the container stores. */
export function poolGeometry(inH: number, inW: number, channels: number, filterH: number, filterW: number, strideH: number, strideW: number, padding: 'same' | 'valid', actMin = -128, actMax = 127): PoolGeometry {
  const outSize = (n: number, k: number, s: number) => (padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);
  const outH = outSize(inH, filterH, strideH);
  const outW = outSize(inW, filterW, strideW);
  const padBefore = (n: number, out: number, k: number, s: number) => (padding === 'same' ? Math.max(0, Math.floor(((out - 1) * s + k - n) / 2)) : 0);
  return {
    inH, inW, channels, outH, outW, filterH, filterW, strideH, strideW,
    padTop: padBefore(inH, outH, filterH, strideH),
    padLeft: padBefore(inW, outW, filterW, strideW),
    actMin, actMax,
  };
}
