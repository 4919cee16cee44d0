// Post-training quantization: an fp32 graph plus calibration samples -> an int8 QModel
// (src/formats/qmodel.ts), following the TFLite int8 spec (real = scale * (q - zeroPoint)).
//
// - Weights: symmetric int8 in [-127, 127], one scale per output channel, scale =
//   maxabs / 127 (axis 0 for conv2d [O,kH,kW,I] and fully_connected [O,I]; axis 3, the
//   channel, for depthwise [1,kH,kW,C]). An all-zero channel gets scale 1 (its values are 0).
// - Biases: int32, q = round(b / (s_in * s_w[c])), saturated to int32; that scale is implied.
// - Activations: asymmetric int8 per tensor from the calibration min/max, the range
//   widened to include 0; scale = (max - min) / 255, zeroPoint = round(-128 - min / scale)
//   clamped to [-128, 127]. A range of width 0 (a dead tensor) is taken as [0, 1].
// - A standalone relu/relu6 whose producer is a conv/depthwise/fc/add with no activation
//   and no other consumer is fused into it; the fused output's range starts at 0.
// - Pools and reshape keep their input's quant params (TFLite requires it for pools). The
//   global average pool gets its own calibrated range and requantizes to it (TFLM's int8 MEAN):
//   its outputs are averages, far smaller than the per-pixel peaks that set the input's grid.
//   `globalAvgPool: 'keep-scale'` keeps the input's params instead (TFLite AVERAGE_POOL_2D).
//   Softmax outputs scale 1/256, zeroPoint -128.
// - The float32 graph input is followed by a `quantize` op, and the graph output is
//   `dequantize`d back to float32 (logits, or probabilities with a softmax).
// Rounding is half away from zero, as TFLite's std::round. Tensor shapes have batch 1.

import { ShapeError, SparrowError, ValueError } from '../formats/errors.js';
import type { QModel, QOp, QTensor, QuantParams } from '../formats/qmodel.js';
import { forward } from './engine.js';
import { hasParams, indexNodes, size, type Activation, type Graph, type Node, type ParamNode } from './graph.js';

export interface PtqOptions {
  /** Append a softmax before the output's dequantize (when the graph does not end in one). Default false. */
  softmax?: boolean;
  /** Calibration batch size for the fp32 forward passes. Default 128. */
  batchSize?: number;
  /**
   * Activation ranges clip the calibration values at this percentile (and 100 - it at the
   * low end), so a few outliers do not stretch the scale. 100 keeps the plain min/max.
   * Default 99.99.
   */
  percentile?: number;
  /**
   * 'requantize' (default): the global average pool's output has its own calibrated range and
   * the op requantizes to it (TFLM MEAN). 'keep-scale': it keeps its input's params (TFLite
   * AVERAGE_POOL_2D over the whole image).
   */
  globalAvgPool?: 'requantize' | 'keep-scale';
}

export interface Range { min: number; max: number }

const INT32_MAX = 2147483647;
const SOFTMAX_QUANT: QuantParams = { scale: [1 / 256], zeroPoint: [-128] };

/** round() with ties away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

const HISTOGRAM_BINS = 4096;

/**
 * The range of every node's fp32 output over the calibration samples (N x inputSize floats):
 * min and max, clipped to the given percentiles with a histogram of each node's values.
 */
export function calibrate(graph: Graph, calibration: Float32Array, batchSize = 128, percentile = 100): Map<string, Range> {
  const ranges = minMax(graph, calibration, batchSize);
  if (percentile >= 100) return ranges;
  if (!(percentile > 50)) throw new ValueError(`calibration percentile must be in (50, 100], got ${percentile}`);
  const histograms = new Map(graph.nodes.map((n) => [n.name, new Float64Array(HISTOGRAM_BINS)]));
  const bin = (r: Range, v: number): number => Math.min(HISTOGRAM_BINS - 1, Math.floor(((v - r.min) / (r.max - r.min)) * HISTOGRAM_BINS));
  forEachBatch(graph, calibration, batchSize, (node, values) => {
    const r = ranges.get(node.name)!;
    if (!(r.max > r.min)) return;
    const h = histograms.get(node.name)!;
    for (const v of values) h[bin(r, v)]++;
  });
  const clipped = new Map<string, Range>();
  for (const node of graph.nodes) {
    const r = ranges.get(node.name)!;
    const h = histograms.get(node.name)!;
    const total = h.reduce((a, b) => a + b, 0);
    if (!(r.max > r.min) || total === 0) {
      clipped.set(node.name, r);
      continue;
    }
    const width = (r.max - r.min) / HISTOGRAM_BINS;
    const tail = (total * (100 - percentile)) / 100;
    let lo = 0;
    for (let seen = h[0]; seen <= tail && lo < HISTOGRAM_BINS - 1; seen += h[++lo]);
    let hi = HISTOGRAM_BINS - 1;
    for (let seen = h[hi]; seen <= tail && hi > 0; seen += h[--hi]);
    clipped.set(node.name, { min: r.min + lo * width, max: r.min + (hi + 1) * width });
  }
  return clipped;
}

/** Calls `visit` with every node's output values, batch by batch. */
function forEachBatch(graph: Graph, calibration: Float32Array, batchSize: number, visit: (node: Node, values: Float32Array) => void): void {
  const inputSize = size(graph.nodes[0].shape);
  const count = calibration.length / inputSize;
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const pass = forward(graph, calibration.subarray(start * inputSize, (start + n) * inputSize), n);
    graph.nodes.forEach((node, i) => visit(node, pass.values[i]));
  }
}

/** Min and max of every node's fp32 output over the calibration samples. */
function minMax(graph: Graph, calibration: Float32Array, batchSize: number): Map<string, Range> {
  const inputSize = size(graph.nodes[0].shape);
  const count = calibration.length / inputSize;
  if (!Number.isInteger(count) || count < 1) {
    throw new ShapeError(`calibration holds ${calibration.length} values: expected N x ${inputSize} with N >= 1`);
  }
  const bad = calibration.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new ValueError(`calibration sample ${Math.floor(bad / inputSize)} holds a non-finite value at element ${bad % inputSize}`);
  const ranges = new Map<string, Range>(graph.nodes.map((n) => [n.name, { min: Infinity, max: -Infinity }]));
  forEachBatch(graph, calibration, batchSize, (node, values) => {
    const r = ranges.get(node.name)!;
    for (const v of values) {
      if (v < r.min) r.min = v;
      if (v > r.max) r.max = v;
    }
  });
  return ranges;
}

/** Asymmetric int8 params of an activation whose values span `range`. */
export function activationQuant({ min, max }: Range): QuantParams {
  let lo = Math.min(min, 0);
  let hi = Math.max(max, 0);
  if (!(hi - lo > 0)) [lo, hi] = [0, 1];
  const scale = Math.fround((hi - lo) / 255); // scales are float32 in the container, as in TFLite
  const zeroPoint = Math.max(-128, Math.min(127, roundHalfAway(-128 - lo / scale)));
  return { scale: [scale], zeroPoint: [zeroPoint] };
}

/** Per-channel symmetric int8 weights. `channelAxisLast` for depthwise [1,kH,kW,C]. */
export function quantizeWeights(w: Float32Array, channels: number, channelAxisLast: boolean): { q: Int8Array; scales: number[] } {
  const per = w.length / channels;
  const channelOf = (i: number): number => (channelAxisLast ? i % channels : Math.floor(i / per));
  const maxAbs = new Array<number>(channels).fill(0);
  w.forEach((v, i) => (maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(v))));
  const scales = maxAbs.map((m) => (m > 0 ? Math.fround(m / 127) : 1)); // float32, as stored
  const q = new Int8Array(w.length);
  w.forEach((v, i) => (q[i] = Math.max(-127, Math.min(127, roundHalfAway(v / scales[channelOf(i)])))));
  return { q, scales };
}

/** The int8 model of `graph`. `calibration` holds N samples of the graph input, packed. */
export function quantizeGraph(graph: Graph, calibration: Float32Array, options: PtqOptions = {}): QModel {
  const index = indexNodes(graph);
  const ranges = calibrate(graph, calibration, options.batchSize ?? 128, options.percentile ?? 99.99);
  const fused = fuseActivations(graph, index);
  const tensors: QTensor[] = [];
  const ops: QOp[] = [];
  /** Exported int8 tensor of each graph node (a fused activation shares its producer's). */
  const tensorOf = new Map<string, QTensor>();
  const batched = (shape: number[]): number[] => [1, ...shape];

  const input = graph.nodes[0];
  tensors.push({ name: input.name, shape: batched(input.shape), dtype: 'float32' });
  const inputQ: QTensor = { name: `${input.name}/int8`, shape: batched(input.shape), dtype: 'int8', quant: activationQuant(ranges.get(input.name)!) };
  tensors.push(inputQ);
  ops.push({ op: 'quantize', inputs: [input.name], outputs: [inputQ.name] });
  tensorOf.set(input.name, inputQ);

  for (const node of graph.nodes.slice(1)) {
    if (index.get(node.name)! > index.get(graph.output)!) break;
    if (fused.absorbed.has(node.name)) {
      tensorOf.set(node.name, tensorOf.get(node.inputs[0])!);
      continue;
    }
    const ins = node.inputs.map((name) => tensorOf.get(name)!);
    const out: QTensor = { name: node.name, shape: batched(node.shape), dtype: 'int8', quant: outputQuant(node, ins[0], ranges, fused, options) };
    tensors.push(out);
    tensorOf.set(node.name, out);
    ops.push(emitOp(node, ins, out, tensors, fused.activation.get(node.name) ?? 'none'));
  }

  let last = tensorOf.get(graph.output)!;
  if (options.softmax && graph.nodes[index.get(graph.output)!].kind !== 'softmax') {
    const probs: QTensor = { name: `${graph.output}/softmax`, shape: last.shape, dtype: 'int8', quant: SOFTMAX_QUANT };
    tensors.push(probs);
    ops.push({ op: 'softmax', inputs: [last.name], outputs: [probs.name], beta: 1 });
    last = probs;
  }
  const output: QTensor = { name: `${last.name}/float32`, shape: last.shape, dtype: 'float32' };
  tensors.push(output);
  ops.push({ op: 'dequantize', inputs: [last.name], outputs: [output.name] });
  return { format: 'sparrow-model', version: 1, name: graph.name, tensors, ops, inputs: [input.name], outputs: [output.name] };
}

interface Fusion {
  /** Standalone activation nodes folded into their producer. */
  absorbed: Set<string>;
  /** Effective fused activation of each producer, and the node whose range its output takes. */
  activation: Map<string, Activation>;
  rangeOf: Map<string, string>;
}

function fuseActivations(graph: Graph, index: Map<string, number>): Fusion {
  const consumers = new Map<string, number>();
  for (const node of graph.nodes) for (const i of node.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const fusion: Fusion = { absorbed: new Set(), activation: new Map(), rangeOf: new Map() };
  for (const node of graph.nodes) {
    if ('activation' in node) fusion.activation.set(node.name, node.activation);
    if (node.kind !== 'relu' && node.kind !== 'relu6') continue;
    const producer = graph.nodes[index.get(node.inputs[0])!];
    const fusable = (hasParams(producer) || producer.kind === 'add') && producer.activation === 'none'
      && consumers.get(producer.name) === 1 && producer.name !== graph.output;
    if (!fusable) {
      throw new SparrowError(`node "${node.name}": a standalone ${node.kind} must follow a conv2d, depthwise_conv2d, fully_connected or add `
        + `with no activation and no other consumer to be quantized (int8 models fuse activations); "${producer.name}" does not`);
    }
    fusion.absorbed.add(node.name);
    fusion.activation.set(producer.name, node.kind);
    fusion.rangeOf.set(producer.name, node.name);
  }
  return fusion;
}

function outputQuant(node: Node, input: QTensor, ranges: Map<string, Range>, fusion: Fusion, options: PtqOptions): QuantParams {
  switch (node.kind) {
    case 'global_avg_pool':
      return options.globalAvgPool === 'keep-scale' ? input.quant! : activationQuant(ranges.get(node.name)!);
    case 'avg_pool': case 'max_pool': case 'reshape':
      return input.quant!;
    case 'softmax':
      return SOFTMAX_QUANT;
    default: {
      const r = ranges.get(fusion.rangeOf.get(node.name) ?? node.name)!;
      const act = fusion.activation.get(node.name) ?? 'none';
      return activationQuant(act === 'none' ? r : { min: 0, max: r.max });
    }
  }
}

function emitOp(node: Node, ins: QTensor[], out: QTensor, tensors: QTensor[], activation: Activation): QOp {
  const io = { inputs: ins.map((t) => t.name), outputs: [out.name] };
  switch (node.kind) {
    case 'conv2d': case 'depthwise_conv2d': case 'fully_connected': {
      const [filter, bias] = quantizeParams(node, ins[0]);
      tensors.push(filter, bias);
      const op: QOp = { op: node.kind, inputs: [ins[0].name, filter.name, bias.name], outputs: [out.name], activation };
      if (node.kind !== 'fully_connected') Object.assign(op, { stride: node.stride, padding: node.padding });
      return op;
    }
    case 'add': return { op: 'add', ...io, activation };
    case 'avg_pool': case 'max_pool':
      return { op: node.kind, ...io, filter: node.filter, stride: node.stride, padding: node.padding, activation: 'none' };
    case 'global_avg_pool': return { op: 'global_avg_pool', ...io };
    case 'reshape': return { op: 'reshape', ...io };
    case 'softmax': return { op: 'softmax', ...io, beta: 1 };
    default: throw new SparrowError(`node "${node.name}": ${node.kind} has no int8 op`);
  }
}

function quantizeParams(node: ParamNode, input: QTensor): [QTensor, QTensor] {
  const depthwise = node.kind === 'depthwise_conv2d';
  const channels = depthwise ? node.weight.shape[3] : node.weight.shape[0];
  const { q, scales } = quantizeWeights(node.weight.data, channels, depthwise);
  const sIn = input.quant!.scale[0];
  const biasScales = scales.map((s) => sIn * s);
  const biasQ = Array.from(node.bias.data, (b, c) => Math.max(-INT32_MAX - 1, Math.min(INT32_MAX, roundHalfAway(b / biasScales[c]))));
  return [
    { name: node.weight.name, shape: [...node.weight.shape], dtype: 'int8', quant: { scale: scales, zeroPoint: scales.map(() => 0) }, data: Array.from(q) },
    // the bias scale is implied (input scale x weight scale[c]), so the model does not repeat it
    { name: node.bias.name, shape: [...node.bias.shape], dtype: 'int32', data: biasQ },
  ];
}
