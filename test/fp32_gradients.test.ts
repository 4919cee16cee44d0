// Every fp32 op's backward against central finite differences of its forward, through the
// engine, on seeded random shapes (odd sizes, stride 2, SAME and VALID padding, batch > 1).
//
// Loss: L = sum(y * r) with a fixed random r, summed in float64, so dL/dy = r. For each
// checked coordinate v: numeric = (L(v + h) - L(v - h)) / (2h), using the actual float32
// step. Pass: |numeric - analytic| <= atol + rtol * max(|numeric|, |analytic|), with
// - smooth cases: h = 3e-2, atol = 2e-4, rtol = 2e-3 (a 1% error in a gradient fails);
// - non-smooth cases (ReLU kinks, max-pool ties): h = 1e-3, atol = 2e-3, rtol = 1e-2, and a
//   coordinate whose one-sided differences disagree by more than 3e-3 crossed a kink inside
//   [v - h, v + h] and is skipped; at most 10% of a case's coordinates may be skipped.

import { describe, expect, it } from 'vitest';
import { ModelBuilder, type TensorRef } from '../src/compiler/builder.js';
import { backward, forward, outputOf } from '../src/compiler/engine.js';
import { conv2dForward } from '../src/compiler/fp32/conv2d.js';
import { depthwiseForward } from '../src/compiler/fp32/depthwise_conv2d.js';
import { meanSquaredError, softmaxCrossEntropy } from '../src/compiler/fp32/index.js';
import { windowGeometry } from '../src/compiler/fp32/window.js';
import { convAxis, parameters, size, type Graph, type Padding } from '../src/compiler/graph.js';
import { referenceCnn } from '../src/compiler/models.js';
import { Random } from '../src/host/random.js';

interface Tolerance { h: number; atol: number; rtol: number }
const SMOOTH: Tolerance = { h: 3e-2, atol: 2e-4, rtol: 2e-3 };
const KINKED: Tolerance = { h: 1e-3, atol: 2e-3, rtol: 1e-2 };
const KINK = 3e-3;
const COORDS_PER_TENSOR = 24;

interface CheckResult { checked: number; skipped: number; failures: string[] }

function randomArray(rng: Random, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.uniform(-1, 1));
}

/** Finite-difference check of dL/dinput and every dL/dparam of `graph`. */
function checkGraph(graph: Graph, batch: number, rng: Random, tol: Tolerance, inputScale = 1): CheckResult {
  const H = tol.h;
  const x = randomArray(rng, batch * size(graph.nodes[0].shape), inputScale);
  const outLength = outputOf(forward(graph, x, batch)).length;
  const r = randomArray(rng, outLength);
  const loss = (): number => {
    const y = outputOf(forward(graph, x, batch));
    let l = 0;
    for (let i = 0; i < y.length; i++) l += y[i] * r[i];
    return l;
  };
  const grads = backward(forward(graph, x, batch), r);
  const targets: [string, Float32Array, Float32Array][] = [['input', x, grads.input]];
  for (const p of parameters(graph)) targets.push([p.name, p.data, grads.params.get(p.name) ?? new Float32Array(p.data.length)]);

  const result: CheckResult = { checked: 0, skipped: 0, failures: [] };
  const l0 = loss();
  for (const [name, values, analytic] of targets) {
    for (let k = 0; k < Math.min(COORDS_PER_TENSOR, values.length); k++) {
      const i = values.length <= COORDS_PER_TENSOR ? k : rng.int(0, values.length - 1);
      const v = values[i];
      values[i] = v + H;
      const up = values[i];
      const lPlus = loss();
      values[i] = v - H;
      const down = values[i];
      const lMinus = loss();
      values[i] = v;
      result.checked++;
      if (tol === KINKED && Math.abs((lPlus - l0) / (up - v) - (l0 - lMinus) / (v - down)) > KINK) {
        result.skipped++;
        continue;
      }
      const numeric = (lPlus - lMinus) / (up - down);
      const a = analytic[i];
      if (Math.abs(numeric - a) > tol.atol + tol.rtol * Math.max(Math.abs(numeric), Math.abs(a))) {
        result.failures.push(`${name}[${i}]: numeric ${numeric.toFixed(5)} analytic ${a.toFixed(5)}`);
      }
    }
  }
  return result;
}

interface Case {
  label: string; graph: Graph; batch: number; smooth: boolean; inputScale?: number;
}

function expectGradientsMatch(c: Case, rng: Random): void {
  const r = checkGraph(c.graph, c.batch, rng, c.smooth ? SMOOTH : KINKED, c.inputScale);
  expect(r.failures, `${c.label}: ${r.failures.slice(0, 5).join('; ')}`).toEqual([]);
  if (!c.smooth) expect(r.skipped, `${c.label}: ${r.skipped}/${r.checked} coordinates at kinks`).toBeLessThanOrEqual(0.1 * r.checked);
  expect(r.checked).toBeGreaterThan(0);
}

/** A graph input [h, w, c] -> op -> output, with random non-zero biases. */
function single(rng: Random, inShape: number[], op: (b: ModelBuilder, x: TensorRef) => TensorRef): Graph {
  const b = new ModelBuilder('case', inShape);
  const g = b.build(op(b, b.input()), rng);
  for (const p of parameters(g)) if (p.name.endsWith('/bias')) p.data.set(randomArray(rng, p.data.length, 0.5));
  return g;
}

const randomSpatial = (rng: Random): number[] => [rng.int(3, 9), rng.int(3, 9), rng.int(1, 4)];
const paddings: Padding[] = ['same', 'valid'];

describe('fp32 backward vs finite differences', () => {
  const rng = new Random(0x5eed);

  it('conv2d: kernels 1-3, stride 1-2, SAME/VALID, fused none/relu/relu6', () => {
    for (let t = 0; t < 12; t++) {
      const shape = randomSpatial(rng);
      const kernel: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
      const stride = rng.int(1, 2);
      const padding = paddings[t % 2];
      const activation = (['none', 'relu', 'relu6'] as const)[t % 3];
      const graph = single(rng, shape, (b, x) => b.conv2d(x, { filters: rng.int(1, 5), kernel, stride, padding, activation }));
      expectGradientsMatch({ label: `conv2d in [${shape}] k [${kernel}] s ${stride} ${padding} ${activation}`, graph, batch: 2, smooth: activation === 'none' }, rng);
    }
  });

  it('depthwise_conv2d: kernels 1-3, stride 1-2, SAME/VALID, fused activations', () => {
    for (let t = 0; t < 12; t++) {
      const shape = randomSpatial(rng);
      const kernel = rng.int(1, 3);
      const stride = rng.int(1, 2);
      const padding = paddings[t % 2];
      const activation = (['none', 'relu', 'relu6'] as const)[t % 3];
      const graph = single(rng, shape, (b, x) => b.depthwise(x, { kernel, stride, padding, activation }));
      expectGradientsMatch({ label: `depthwise in [${shape}] k ${kernel} s ${stride} ${padding} ${activation}`, graph, batch: 2, smooth: activation === 'none' }, rng);
    }
  });

  it('pointwise and fully_connected (flattening a feature map)', () => {
    for (let t = 0; t < 6; t++) {
      const shape = randomSpatial(rng);
      const pw = single(rng, shape, (b, x) => b.pointwise(x, { filters: rng.int(1, 6) }));
      expectGradientsMatch({ label: `pointwise in [${shape}]`, graph: pw, batch: 3, smooth: true }, rng);
      const activation = t % 2 ? 'relu' : 'none';
      const fc = single(rng, shape, (b, x) => b.fullyConnected(x, { units: rng.int(1, 7), activation }));
      expectGradientsMatch({ label: `fc in [${shape}] ${activation}`, graph: fc, batch: 3, smooth: activation === 'none' }, rng);
    }
  });

  it('add (fan-out: x feeds both operands), with fused relu', () => {
    for (let t = 0; t < 6; t++) {
      const shape = randomSpatial(rng);
      const activation = t % 2 ? 'relu' : 'none';
      const graph = single(rng, shape, (b, x) => b.add(b.pointwise(x, { filters: shape[2] }), x, { activation }));
      expectGradientsMatch({ label: `add in [${shape}] ${activation}`, graph, batch: 2, smooth: activation === 'none' }, rng);
    }
  });

  it('avg_pool and max_pool: windows 1-3, stride 1-2, SAME/VALID', () => {
    for (let t = 0; t < 16; t++) {
      const shape = randomSpatial(rng);
      const pool = rng.int(1, 3);
      const o = { pool, stride: rng.int(1, 2), padding: paddings[t % 2] };
      const max = t >= 8;
      const graph = single(rng, shape, (b, x) => (max ? b.maxPool(x, o) : b.avgPool(x, o)));
      const label = `${max ? 'max' : 'avg'}_pool in [${shape}] ${JSON.stringify(o)}`;
      expectGradientsMatch({ label, graph, batch: 2, smooth: !max }, rng);
    }
  });

  it('global_avg_pool, reshape, softmax', () => {
    for (let t = 0; t < 4; t++) {
      const shape = randomSpatial(rng);
      const gap = single(rng, shape, (b, x) => b.globalAvgPool(x));
      expectGradientsMatch({ label: `global_avg_pool in [${shape}]`, graph: gap, batch: 3, smooth: true }, rng);
      const reshaped = single(rng, shape, (b, x) => b.fullyConnected(b.reshape(x, [shape[0] * shape[1], shape[2]]), { units: 3 }));
      expectGradientsMatch({ label: `reshape in [${shape}]`, graph: reshaped, batch: 2, smooth: true }, rng);
      const sm = single(rng, [rng.int(2, 12)], (b, x) => b.softmax(x));
      expectGradientsMatch({ label: `softmax [${sm.nodes[0].shape}]`, graph: sm, batch: 3, smooth: true, inputScale: 3 }, rng);
    }
  });

  it('standalone relu and relu6 (inputs spread over both kinks)', () => {
    for (const kind of ['relu', 'relu6'] as const) {
      const shape = randomSpatial(rng);
      const graph = single(rng, shape, (b, x) => (kind === 'relu' ? b.relu(x) : b.relu6(x)));
      expectGradientsMatch({ label: `${kind} in [${shape}]`, graph, batch: 2, smooth: false, inputScale: 8 }, rng);
    }
  });

  it('the whole reference CNN through the engine (activations removed: smooth, strict)', () => {
    // With its ReLUs every weight feeds thousands of kinks and finite differences turn
    // unreliable; fused ReLUs are covered per op above. This case checks the chaining.
    const graph = referenceCnn(7);
    for (const node of graph.nodes) if ('activation' in node) node.activation = 'none';
    expectGradientsMatch({ label: 'reference-cnn without activations', graph, batch: 2, smooth: true }, rng);
  });
});

describe('losses vs finite differences', () => {
  const rng = new Random(42);
  const check = (label: string, f: (p: Float32Array) => { loss: number; grad: Float32Array }, p: Float32Array): void => {
    const { grad } = f(p);
    const H = 1e-2;
    for (let i = 0; i < p.length; i++) {
      const v = p[i];
      p[i] = v + H;
      const up = p[i];
      const lPlus = f(p).loss;
      p[i] = v - H;
      const down = p[i];
      const lMinus = f(p).loss;
      p[i] = v;
      const numeric = (lPlus - lMinus) / (up - down);
      expect(Math.abs(numeric - grad[i]), `${label}[${i}]: numeric ${numeric} analytic ${grad[i]}`).toBeLessThanOrEqual(2e-4 + 2e-3 * Math.abs(numeric));
    }
  };

  it('softmax cross-entropy (mean over the batch)', () => {
    for (const classes of [2, 3, 10]) {
      const batch = rng.int(1, 4);
      const labels = Uint8Array.from({ length: batch }, () => rng.int(0, classes - 1));
      check(`softmax_ce classes ${classes} batch ${batch}`, (p) => softmaxCrossEntropy(p, labels, classes), randomArray(rng, batch * classes, 4));
    }
  });

  it('mean squared error', () => {
    const target = randomArray(rng, 17);
    check('mse', (p) => meanSquaredError(p, target), randomArray(rng, 17));
  });
});

describe('fp32 forward against an explicitly padded oracle', () => {
  // Independent path: build the zero-padded input with TFLite's SAME rule, then a VALID
  // convolution in float64; compare within float32 rounding.
  function paddedConv(x: Float32Array, [inH, inW, inC]: number[], w: Float32Array, [outC, kH, kW]: number[], stride: number, padding: Padding, depthwise: boolean): Float64Array {
    const outH = padding === 'same' ? Math.ceil(inH / stride) : Math.ceil((inH - kH + 1) / stride);
    const outW = padding === 'same' ? Math.ceil(inW / stride) : Math.ceil((inW - kW + 1) / stride);
    const padH = padding === 'same' ? Math.max((outH - 1) * stride + kH - inH, 0) : 0;
    const padW = padding === 'same' ? Math.max((outW - 1) * stride + kW - inW, 0) : 0;
    const pH = inH + padH;
    const pW = inW + padW;
    const padded = new Float64Array(pH * pW * inC);
    for (let y = 0; y < inH; y++) for (let xx = 0; xx < inW; xx++) for (let c = 0; c < inC; c++) {
      padded[((y + Math.floor(padH / 2)) * pW + xx + Math.floor(padW / 2)) * inC + c] = x[(y * inW + xx) * inC + c];
    }
    const C = depthwise ? inC : outC;
    const y = new Float64Array(outH * outW * C);
    for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let oc = 0; oc < C; oc++) {
      let acc = 0;
      for (let ky = 0; ky < kH; ky++) for (let kx = 0; kx < kW; kx++) {
        const p = ((oy * stride + ky) * pW + ox * stride + kx) * inC;
        if (depthwise) acc += padded[p + oc] * w[(ky * kW + kx) * inC + oc];
        else for (let c = 0; c < inC; c++) acc += padded[p + c] * w[((oc * kH + ky) * kW + kx) * inC + c];
      }
      y[(oy * outW + ox) * C + oc] = acc;
    }
    return y;
  }

  it('conv2d and depthwise, batch 1, zero bias', () => {
    const rng = new Random(99);
    for (let t = 0; t < 20; t++) {
      const inShape = randomSpatial(rng);
      const k = rng.int(1, 4);
      const stride = rng.int(1, 3);
      const padding = paddings[t % 2];
      const depthwise = t >= 10;
      if (padding === 'valid' && (k > inShape[0] || k > inShape[1])) continue;
      const outC = depthwise ? inShape[2] : rng.int(1, 4);
      const w = randomArray(rng, (depthwise ? 1 : outC) * k * k * inShape[2]);
      const x = randomArray(rng, size(inShape));
      const g = windowGeometry(inShape, 1, [k, k], [stride, stride], padding);
      const got = depthwise ? depthwiseForward(g, x, w, new Float32Array(outC)) : conv2dForward(g, x, w, new Float32Array(outC), outC);
      const want = paddedConv(x, inShape, w, [outC, k, k], stride, padding, depthwise);
      expect(got.length, `case ${t}`).toBe(want.length);
      want.forEach((v, i) => expect(Math.abs(got[i] - v), `${depthwise ? 'dw' : 'conv'} in [${inShape}] k ${k} s ${stride} ${padding} at ${i}`).toBeLessThan(1e-5));
    }
  });

  it('convAxis follows the TFLite SAME/VALID rules', () => {
    expect(convAxis(28, 3, 2, 'same')).toEqual({ out: 14, padBefore: 0 }); // total 1: pad after
    expect(convAxis(14, 3, 1, 'same')).toEqual({ out: 14, padBefore: 1 });
    expect(convAxis(7, 3, 2, 'same')).toEqual({ out: 4, padBefore: 1 });
    expect(convAxis(7, 3, 2, 'valid')).toEqual({ out: 3, padBefore: 0 });
    expect(convAxis(8, 3, 3, 'valid')).toEqual({ out: 2, padBefore: 0 });
  });
});
