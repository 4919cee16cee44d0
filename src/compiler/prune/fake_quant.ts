// Quantization-aware fine-tuning: the forward pass sees the values the int8 model will hold,
// dequantized back to float, and the gradient goes through rounding as if it were the
// identity (straight-through estimator, Bengio et al. 2013; Jacob et al. 2018).
//
// - Weights (WeightFakeQuant): as ptq.ts quantizeWeights stores them (symmetric, per output
//   channel, round half away from 0, [-127, 127]). Usage around one optimizer step: `swapIn()`
//   before the forward pass, `restore()` before the update, so the update lands on the float
//   weights. A pruned weight (+0) stays +0. Biases stay float: the device stores them as int32
//   at scale s_in * s_w, far finer than the weights' grid.
// - Activations (fakeQuantForward): every node output rounded to the per-tensor asymmetric
//   int8 grid PTQ gives it (activationGrids: calibrated ranges, fused ReLU from 0, windowed
//   pools and reshape on their input's grid, the global average pool on its own), saturating
//   at the grid's ends.

import type { QuantParams } from '../../formats/qmodel.js';
import type { ForwardPass } from '../engine.js';
import { fp32Ops, type Fp32Op } from '../fp32/index.js';
import { hasParams, indexNodes, size, type Graph, type Node, type ParamNode } from '../graph.js';
import { activationQuant, calibrate, quantizeWeights, roundHalfAway } from '../ptq.js';

/** Output channels of a weight and whether they are its last axis (depthwise [1,kH,kW,C]). */
function channelLayout(node: ParamNode): { channels: number; last: boolean } {
  const depthwise = node.kind === 'depthwise_conv2d';
  return { channels: depthwise ? node.weight.shape[3] : node.weight.shape[0], last: depthwise };
}

/** `w` rounded to its per-channel int8 grid and dequantized: scale[c] * q. New array. */
export function fakeQuantWeights(w: Float32Array, channels: number, channelAxisLast: boolean): Float32Array {
  const { q, scales } = quantizeWeights(w, channels, channelAxisLast);
  const per = w.length / channels;
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = scales[channelAxisLast ? i % channels : Math.floor(i / per)] * q[i];
  return out;
}

/** Swaps fake-quantized weights into every weighted node of a graph, and the float ones back. */
export class WeightFakeQuant {
  private readonly nodes: ParamNode[];
  /** The float weights while fake-quantized ones are swapped in; empty otherwise. */
  private saved: Float32Array[] = [];

  constructor(graph: Graph) {
    this.nodes = graph.nodes.filter(hasParams);
  }

  swapIn(): void {
    if (this.saved.length) return;
    this.saved = this.nodes.map((n) => {
      const { channels, last } = channelLayout(n);
      const float = n.weight.data.slice();
      n.weight.data.set(fakeQuantWeights(float, channels, last));
      return float;
    });
  }

  /** Puts the float weights back; a no-op when none are swapped out. */
  restore(): void {
    if (!this.saved.length) return;
    this.nodes.forEach((n, k) => n.weight.data.set(this.saved[k]));
    this.saved = [];
  }
}

/**
 * The int8 grid of every node output of `graph` as quantizeGraph (default options) chooses
 * it from `calibration` (N samples packed): node name -> scale and zero point.
 */
export function activationGrids(graph: Graph, calibration: Float32Array, percentile = 99.99): Map<string, QuantParams> {
  const ranges = calibrate(graph, calibration, 128, percentile);
  const grids = new Map<string, QuantParams>();
  for (const node of graph.nodes) {
    const r = ranges.get(node.name)!;
    const own = 'activation' in node && node.activation !== 'none' ? { min: 0, max: r.max } : r;
    const inherits = node.kind === 'avg_pool' || node.kind === 'max_pool' || node.kind === 'reshape';
    grids.set(node.name, inherits ? grids.get(node.inputs[0])! : activationQuant(own));
  }
  return grids;
}

/** Rounds `x` in place to the grid real = scale * (q - zeroPoint), q in [-128, 127]; no grid leaves it float. */
export function fakeQuantActivations(x: Float32Array, grid: QuantParams | undefined): Float32Array {
  if (!grid) return x;
  const s = grid.scale[0];
  const z = grid.zeroPoint[0];
  for (let i = 0; i < x.length; i++) {
    const q = Math.max(-128, Math.min(127, roundHalfAway(x[i] / s) + z));
    x[i] = s * (q - z);
  }
  return x;
}

/**
 * engine.forward with every node output (the input too) fake-quantized to `grids` (a node
 * missing from `grids` stays float). The
 * returned pass back-propagates with engine.backward (straight through the rounding). The
 * input batch is copied, never modified.
 */
export function fakeQuantForward(graph: Graph, input: Float32Array, batch: number, grids: Map<string, QuantParams>): ForwardPass {
  const index = indexNodes(graph);
  const values: Float32Array[] = [fakeQuantActivations(input.slice(0, batch * size(graph.nodes[0].shape)), grids.get(graph.nodes[0].name))];
  for (let i = 1; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    const ids = node.inputs.map((name) => index.get(name)!);
    const op = fp32Ops[node.kind as Exclude<Node['kind'], 'input'>] as Fp32Op;
    const y = op.forward(node, ids.map((j) => values[j]), ids.map((j) => graph.nodes[j].shape), batch);
    values.push(fakeQuantActivations(y === values[ids[0]] ? y.slice() : y, grids.get(node.name)));
  }
  return { graph, batch, values, index };
}
