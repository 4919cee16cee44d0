// Post-training quantization: the QModel is well-formed (every name resolves, data lengths
// and value ranges hold), weights and biases dequantize to within half a quantization step
// of the fp32 values, activation ranges cover the calibration data, activations are fused
// and pools keep their input's quant params.

import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../src/compiler/builder.js';
import { hasParams, size, type Graph } from '../src/compiler/graph.js';
import { referenceCnn, referenceMlp } from '../src/compiler/models.js';
import { activationQuant, calibrate, quantizeGraph } from '../src/compiler/ptq.js';
import { ShapeError, SparrowError, ValueError } from '../src/formats/errors.js';
import type { QModel, QTensor } from '../src/formats/qmodel.js';
import { loadMnist, take } from '../src/host/datasets/mnist.js';
import { Random } from '../src/host/random.js';

const mnist = loadMnist({ seed: 3 });
const calibration = take(mnist.train, 64).images;

/** Every structural rule of src/formats/qmodel.ts that PTQ output must satisfy; returns problems. */
function problems(model: QModel): string[] {
  const out: string[] = [];
  const tensors = new Map<string, QTensor>();
  for (const t of model.tensors) {
    if (tensors.has(t.name)) out.push(`tensor "${t.name}" defined twice`);
    tensors.set(t.name, t);
    if (t.data && t.data.length !== size(t.shape)) out.push(`tensor "${t.name}": ${t.data.length} values for shape [${t.shape}]`);
    const [lo, hi] = t.dtype === 'int8' ? [-127, 127] : [-(2 ** 31), 2 ** 31 - 1];
    if (t.data?.some((v) => !Number.isInteger(v) || v < lo || v > hi)) out.push(`tensor "${t.name}": ${t.dtype} data outside [${lo}, ${hi}]`);
    if (t.dtype === 'float32' && t.quant) out.push(`float tensor "${t.name}" has quant params`);
    if (t.dtype === 'int32' && t.quant) out.push(`bias "${t.name}" repeats its implied scale`);
    if (t.dtype === 'int8') {
      const q = t.quant;
      if (!q || q.scale.length === 0 || q.scale.length !== q.zeroPoint.length) { out.push(`tensor "${t.name}": missing or ragged quant`); continue; }
      if (q.scale.some((s) => !(s > 0) || !Number.isFinite(s))) out.push(`tensor "${t.name}": scale not finite positive`);
      if (q.zeroPoint.some((z) => !Number.isInteger(z) || z < -128 || z > 127)) out.push(`tensor "${t.name}": zero point outside int8`);
      if (t.data && q.zeroPoint.some((z) => z !== 0)) out.push(`constant "${t.name}": non-zero zero point`);
      if (!t.data && q.scale.length !== 1) out.push(`activation "${t.name}": ${q.scale.length} scales`);
    }
  }
  const available = new Set(model.inputs);
  for (const name of model.inputs) if (tensors.get(name)?.dtype !== 'float32') out.push(`input "${name}" is not a float32 tensor`);
  model.ops.forEach((op, k) => {
    for (const name of op.inputs) {
      if (!tensors.has(name)) out.push(`op ${k} (${op.op}) reads unknown "${name}"`);
      else if (!available.has(name) && !tensors.get(name)!.data) out.push(`op ${k} (${op.op}) reads "${name}" before it is written`);
    }
    for (const name of op.outputs) {
      if (!tensors.has(name)) out.push(`op ${k} (${op.op}) writes unknown "${name}"`);
      if (available.has(name)) out.push(`op ${k} (${op.op}) writes "${name}", which is already written`);
      available.add(name);
    }
  });
  for (const name of model.outputs) {
    if (!available.has(name)) out.push(`output "${name}" is never written`);
    if (tensors.get(name)?.dtype !== 'float32') out.push(`output "${name}" is not float32`);
  }
  return out;
}

const byName = (model: QModel): Map<string, QTensor> => new Map(model.tensors.map((t) => [t.name, t]));

function expectParamsWithinHalfStep(graph: Graph, model: QModel): void {
  const tensors = byName(model);
  for (const node of graph.nodes) {
    if (!hasParams(node)) continue;
    const w = tensors.get(node.weight.name)!;
    const b = tensors.get(node.bias.name)!;
    const depthwise = node.kind === 'depthwise_conv2d';
    const channels = depthwise ? node.weight.shape[3] : node.weight.shape[0];
    expect(w.quant!.scale.length, `${w.name} scales`).toBe(channels);
    const per = node.weight.data.length / channels;
    const far: string[] = [];
    node.weight.data.forEach((v, i) => {
      const s = w.quant!.scale[depthwise ? i % channels : Math.floor(i / per)];
      if (Math.abs(v - w.data![i] * s) > 0.5 * s * (1 + 1e-9)) far.push(`${w.name}[${i}] fp32 ${v} q ${w.data![i]} scale ${s}`);
    });
    expect(far.slice(0, 5)).toEqual([]);
    // The largest weight of each channel lands on +-127 (scale = maxabs / 127).
    for (let c = 0; c < channels; c++) {
      const qs = w.data!.filter((_, i) => (depthwise ? i % channels : Math.floor(i / per)) === c);
      expect(Math.max(...qs.map(Math.abs)), `${w.name} channel ${c}`).toBe(127);
    }
    const input = tensors.get(model.ops.find((op) => op.inputs[1] === w.name)!.inputs[0])!;
    expect(b.quant, `${b.name}: the bias scale is implied`).toBeUndefined();
    node.bias.data.forEach((v, c) => {
      const s = input.quant!.scale[0] * w.quant!.scale[c];
      expect(Math.abs(v - b.data![c] * s), `${b.name}[${c}] fp32 ${v} q ${b.data![c]}`).toBeLessThanOrEqual(0.5 * s * (1 + 1e-9));
    });
  }
}

/** A model exercising standalone relu fusion, pools, add, reshape and softmax. */
function mixedGraph(seed: number): Graph {
  const b = new ModelBuilder('mixed', [28, 28, 1]);
  let x = b.input();
  x = b.relu(b.conv2d(x, { filters: 4, kernel: 3, stride: 2 }));
  x = b.maxPool(x, { pool: 2 });
  const y = b.depthwise(x, { kernel: 3, activation: 'relu6' });
  x = b.add(x, y, { activation: 'relu' });
  x = b.avgPool(x, { pool: 3, stride: 2, padding: 'same' });
  x = b.reshape(x, [size(x.shape)]);
  x = b.fullyConnected(x, { units: 10 });
  return b.build(b.softmax(x), new Random(seed));
}

describe('quantizeGraph', () => {
  it('reference CNN and MLP: well-formed, params within half a step, ops in order', () => {
    for (const graph of [referenceCnn(11), referenceMlp(12)]) {
      const model = quantizeGraph(graph, calibration);
      expect(problems(model), graph.name).toEqual([]);
      expectParamsWithinHalfStep(graph, model);
      const expectedOps = ['quantize', ...graph.nodes.slice(1).map((n) => n.kind), 'dequantize'];
      expect(model.ops.map((o) => o.op)).toEqual(expectedOps);
      expect(model.tensors.find((t) => t.name === model.inputs[0])!.shape).toEqual([1, ...graph.nodes[0].shape]);
    }
  });

  it('activation params cover the calibration range, include 0, and fused ReLU outputs start at 0', () => {
    const graph = referenceCnn(13);
    const model = quantizeGraph(graph, calibration, { percentile: 100 });
    const ranges = calibrate(graph, calibration);
    const tensors = byName(model);
    for (const node of graph.nodes) {
      const t = tensors.get(node.kind === 'input' ? `${node.name}/int8` : node.name)!;
      const [s, z] = [t.quant!.scale[0], t.quant!.zeroPoint[0]];
      const r = ranges.get(node.name)!;
      // Representable: [s * (-128 - z), s * (127 - z)]; zero-point rounding moves it by <= s / 2.
      expect(s * (-128 - z), `${t.name} low end vs min ${r.min}`).toBeLessThanOrEqual(Math.min(r.min, 0) + 0.5 * s + 1e-12);
      expect(s * (127 - z), `${t.name} high end vs max ${r.max}`).toBeGreaterThanOrEqual(Math.max(r.max, 0) - 0.5 * s - 1e-12);
      if ('activation' in node && node.activation === 'relu') expect(z, `${t.name} zero point`).toBe(-128);
    }
  });

  it('percentile calibration ignores rare outliers and stays inside the min/max range', () => {
    const graph = referenceCnn(13);
    const withOutlier = calibration.slice();
    withOutlier[100] = 50; // one pixel out of every calibration value, 50x the usual maximum
    const plain = calibrate(graph, withOutlier);
    const clipped = calibrate(graph, withOutlier, 128, 99.99);
    expect(plain.get('input')!.max).toBe(50);
    expect(clipped.get('input')!.max).toBeLessThan(1.05);
    for (const node of graph.nodes) {
      const [p, c] = [plain.get(node.name)!, clipped.get(node.name)!];
      expect(c.min, node.name).toBeGreaterThanOrEqual(p.min);
      expect(c.max, node.name).toBeLessThanOrEqual(p.max + 1e-9);
    }
    expect(() => calibrate(graph, calibration, 128, 40)).toThrow(/percentile/);
  });

  it('fuses a standalone relu, keeps pool/reshape params, exports softmax as 1/256, -128', () => {
    const graph = mixedGraph(14);
    const model = quantizeGraph(graph, calibration);
    expect(problems(model)).toEqual([]);
    expectParamsWithinHalfStep(graph, model);
    expect(model.ops.map((o) => o.op)).toEqual(
      ['quantize', 'conv2d', 'max_pool', 'depthwise_conv2d', 'add', 'avg_pool', 'reshape', 'fully_connected', 'softmax', 'dequantize']);
    const tensors = byName(model);
    const conv = model.ops[1];
    expect(conv.activation).toBe('relu');
    expect(tensors.get(conv.outputs[0])!.quant!.zeroPoint).toEqual([-128]);
    for (const op of model.ops.filter((o) => ['max_pool', 'avg_pool', 'reshape'].includes(o.op))) {
      expect(tensors.get(op.outputs[0])!.quant, `${op.op} output quant`).toEqual(tensors.get(op.inputs[0])!.quant);
    }
    expect(model.ops[3].activation).toBe('relu6');
    expect(model.ops[4].activation).toBe('relu');
    expect(tensors.get(model.ops[8].outputs[0])!.quant).toEqual({ scale: [1 / 256], zeroPoint: [-128] });
  });

  it('appends a softmax on request and rejects what int8 cannot express', () => {
    const graph = referenceMlp(15);
    const model = quantizeGraph(graph, calibration, { softmax: true });
    expect(problems(model)).toEqual([]);
    expect(model.ops.slice(-2).map((o) => o.op)).toEqual(['softmax', 'dequantize']);

    expect(() => quantizeGraph(graph, calibration.subarray(0, 700))).toThrow(ShapeError);
    const bad = calibration.slice(0, 784);
    bad[5] = NaN;
    expect(() => quantizeGraph(graph, bad)).toThrow(ValueError);
    const b = new ModelBuilder('relu-after-pool', [4, 4, 1]);
    const unfusable = b.build(b.relu(b.maxPool(b.input(), { pool: 2 })), new Random(1));
    expect(() => quantizeGraph(unfusable, new Float32Array(16))).toThrow(SparrowError);
  });

  it('activationQuant: the TFLite asymmetric rule on hand-checked ranges', () => {
    // [0, 2.55]: scale 0.01, zp = round(-128 - 0) = -128.
    const relu = activationQuant({ min: 0, max: 2.55 });
    expect(relu.scale[0]).toBe(Math.fround(0.01)); // float32, as the container stores it
    expect(relu.zeroPoint).toEqual([-128]);
    // [-1, 1.55]: scale 0.01, zp = round(-128 + 100) = -28.
    const q = activationQuant({ min: -1, max: 1.55 });
    expect(q.scale[0]).toBe(Math.fround(0.01));
    expect(q.zeroPoint).toEqual([-28]);
    // [0.5, 2]: widened to [0, 2] to include 0.
    expect(activationQuant({ min: 0.5, max: 2 })).toEqual(activationQuant({ min: 0, max: 2 }));
    expect(activationQuant({ min: 0, max: 2 }).zeroPoint).toEqual([-128]);
    // [-3, -1]: widened to [-3, 0]; zp = round(-128 + 255) = 127.
    expect(activationQuant({ min: -3, max: -1 }).zeroPoint).toEqual([127]);
  });
});
