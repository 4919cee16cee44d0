// Losses: softmax cross-entropy from int8 logits, MSE from f32 and int8 predictions, against
// the fp32 engine (src/compiler/fp32) and central differences of an f64 statement of the loss.
import { describe as group, expect, it } from 'vitest';
import { meanSquaredError, softmaxCrossEntropy } from '../../src/compiler/fp32/index.js';
import { Rng } from '../helpers/rng.js';
import { loadTrainKernels, trainVariants, Workspace } from '../helpers/train_kernels.js';

function crossEntropy64(z: ArrayLike<number>, label: number): number {
  const m = Math.max(...Array.from(z));
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += Math.exp(z[i] - m);
  return Math.log(sum) - (z[label] - m);
}
function mse64(p: ArrayLike<number>, t: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - t[i]) ** 2;
  return s / p.length;
}
/** Central difference of `loss` at coordinate i of the real vector z. */
function centralDifference(loss: (z: Float64Array) => number, z: Float64Array, i: number, h: number): number {
  const plus = z.slice(), minus = z.slice();
  plus[i] += h;
  minus[i] -= h;
  return (loss(plus) - loss(minus)) / (2 * h);
}

function expectClose(label: string, got: number, want: number, tol: number): void {
  if (!(Math.abs(got - want) <= tol)) expect.fail(`${label}: kernel ${got}, reference ${want} (tol ${tol})`);
}

group('losses', () => {
  it('softmax_cross_entropy_s8: loss and dLogits = softmax - onehot, against the engine and finite differences (200 cases)', () => {
    for (const { build, name } of trainVariants('softmax_cross_entropy_s8')) {
      const k = loadTrainKernels(build), ws = new Workspace(k, 1 << 16);
      for (let index = 0; index < 200; index++) {
        const rng = new Rng(0xce00 + index);
        ws.reset();
        const classes = index < 5 ? [1, 2, 10, 16, 17][index] : rng.int(1, 40);
        const q = rng.int8Array(classes), scale = rng.uniform(0.01, 0.3), zp = rng.int(-50, 50), label = rng.int(0, classes - 1);
        const z = Float64Array.from(q, (v) => scale * (v - zp));
        const grad = ws.alloc(classes * 4);
        const loss = k[name](ws.i8(q), classes, scale, label, grad);
        const dz = ws.readF32(grad, classes);
        const label_ = `${name} (${build}) case ${index}: ${classes} classes, scale ${scale}, label ${label}`;
        const engine = softmaxCrossEntropy(Float32Array.from(z), [label], classes);
        expectClose(`${label_} loss`, loss, crossEntropy64(z, label), 1e-5 * (1 + engine.loss));
        // the engine floors probabilities at 1e-30 (losses above 69 are capped there)
        if (engine.loss < 60) expectClose(`${label_} loss vs engine`, loss, engine.loss, 1e-5 * (1 + engine.loss));
        for (let i = 0; i < classes; i++) {
          expectClose(`${label_} dz[${i}] vs engine`, dz[i], engine.grad[i], 2e-6);
          expectClose(`${label_} dz[${i}] vs finite difference`, dz[i], centralDifference((v) => crossEntropy64(v, label), z, i, 1e-4), 1e-5);
        }
      }
    }
  });

  it('softmax_cross_entropy_s8 returns NaN and writes nothing for a bad label or no classes', () => {
    const k = loadTrainKernels('mvp'), ws = new Workspace(k, 1 << 16);
    const logits = ws.i8([1, 2, 3]), grad = ws.f32([7, 7, 7]);
    for (const [classes, label] of [[3, 3], [3, -1], [0, 0], [-2, 0]]) {
      expect(k.softmax_cross_entropy_s8(logits, classes, 0.1, label, grad), `classes ${classes}, label ${label}`).toBeNaN();
    }
    expect(Array.from(ws.readF32(grad, 3))).toEqual([7, 7, 7]);
  });

  it('mse_f32 and mse_s8: loss and 2 (p - t) / n against the engine and finite differences (100 cases each)', () => {
    const k = loadTrainKernels('mvp'), ws = new Workspace(k, 1 << 16);
    for (let index = 0; index < 100; index++) {
      const rng = new Rng(0x5e00 + index);
      ws.reset();
      const n = rng.int(1, 300);
      const target = Float32Array.from({ length: n }, () => rng.normal());
      const q = rng.int8Array(n), scale = rng.uniform(0.005, 0.05), zp = rng.int(-20, 20);
      const fromInt8 = Float32Array.from(q, (v) => scale * (v - zp));
      const fromF32 = Float32Array.from({ length: n }, () => rng.normal());
      const pt = ws.f32(target);
      for (const [kind, p] of [['f32', fromF32], ['s8', fromInt8]] as const) {
        const grad = ws.alloc(4 * n);
        const loss = kind === 'f32' ? k.mse_f32(ws.f32(p), pt, n, grad) : k.mse_s8(ws.i8(q), scale, zp, pt, n, grad);
        const dp = ws.readF32(grad, n);
        const engine = meanSquaredError(p, target);
        const label = `mse_${kind} case ${index}, n ${n}`;
        expectClose(`${label} loss`, loss, engine.loss, 1e-5 * (1 + engine.loss));
        const p64 = Float64Array.from(p);
        for (let i = 0; i < n; i += Math.max(1, n >> 3)) {
          expectClose(`${label} dp[${i}] vs engine`, dp[i], engine.grad[i], 1e-6 * (1 + Math.abs(engine.grad[i])));
          expectClose(`${label} dp[${i}] vs finite difference`, dp[i], centralDifference((v) => mse64(v, target), p64, i, 1e-3), 1e-6);
        }
      }
    }
  });

  it('mse_f32 may write its gradient over its prediction; both return NaN for count 0', () => {
    const k = loadTrainKernels('mvp'), ws = new Workspace(k, 1 << 16);
    const p = ws.f32([1, 2]), t = ws.f32([0, 4]);
    expect(k.mse_f32(p, t, 2, p)).toBeCloseTo(2.5, 6);
    expect(Array.from(ws.readF32(p, 2))).toEqual([1, -2]);
    expect(k.mse_f32(p, t, 0, p)).toBeNaN();
    expect(k.mse_s8(ws.i8([1]), 1, 0, t, 0, p)).toBeNaN();
  });
});
