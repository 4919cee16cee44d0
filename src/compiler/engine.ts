// The fp32 reference engine: runs a graph forward over a batch and back-propagates a
// gradient from its output to every parameter and to the input.
//
// Ownership: a ForwardPass holds every node's output (needed by backward) and aliases the
// caller's input array as node 0's output; nothing is modified in place. Parameters are
// read, never written: optimizers (train_fp32.ts) apply the returned gradients.

import { ShapeError } from '../formats/errors.js';
import { fp32Ops, type Fp32Op, type ParamGrads } from './fp32/index.js';
import { indexNodes, size, type Graph, type Node } from './graph.js';

export interface ForwardPass {
  graph: Graph;
  batch: number;
  /** Output of every node, in node order, batch first. */
  values: Float32Array[];
  /** Index of every node by name. */
  index: Map<string, number>;
}

export interface Gradients {
  /** dL/dinput, same layout as the input batch. */
  input: Float32Array;
  /** dL/dparam keyed by Param.name, summed over the batch (the loss carries any 1/N). */
  params: ParamGrads;
}

function opOf(node: Node): Fp32Op {
  return fp32Ops[node.kind as Exclude<Node['kind'], 'input'>] as Fp32Op;
}

/** Runs `graph` on `batch` samples packed in `input` (batch * inputSize floats). */
export function forward(graph: Graph, input: Float32Array, batch: number): ForwardPass {
  const index = indexNodes(graph);
  const inputSize = size(graph.nodes[0].shape);
  if (input.length !== batch * inputSize) {
    throw new ShapeError(`graph "${graph.name}": input has ${input.length} values, expected ${batch} x ${inputSize}`);
  }
  const values: Float32Array[] = [input];
  for (let i = 1; i < graph.nodes.length; i++) {
    const node = graph.nodes[i];
    const ids = node.inputs.map((name) => index.get(name)!);
    values.push(opOf(node).forward(node, ids.map((j) => values[j]), ids.map((j) => graph.nodes[j].shape), batch));
  }
  return { graph, batch, values, index };
}

/** The graph output of a forward pass. */
export function outputOf(pass: ForwardPass): Float32Array {
  return pass.values[pass.index.get(pass.graph.output)!];
}

/** Back-propagates dL/d(graph output) through `pass`. Nodes the output does not depend on get no gradient. */
export function backward(pass: ForwardPass, dOutput: Float32Array): Gradients {
  const { graph, values, index, batch } = pass;
  const outIndex = index.get(graph.output)!;
  if (dOutput.length !== values[outIndex].length) {
    throw new ShapeError(`graph "${graph.name}": output gradient has ${dOutput.length} values, expected ${values[outIndex].length}`);
  }
  // grad[i] = dL/d(output of node i), summed over every consumer.
  const grad: (Float32Array | undefined)[] = new Array(graph.nodes.length);
  grad[outIndex] = dOutput;
  const params: ParamGrads = new Map();
  for (let i = outIndex; i >= 1; i--) {
    const dy = grad[i];
    if (!dy) continue;
    const node = graph.nodes[i];
    const ids = node.inputs.map((name) => index.get(name)!);
    const dxs = opOf(node).backward(node, ids.map((j) => values[j]), ids.map((j) => graph.nodes[j].shape), values[i], dy, batch, params);
    ids.forEach((j, k) => accumulate(grad, j, dxs[k]));
  }
  return { input: grad[0] ?? new Float32Array(values[0].length), params };
}

function accumulate(grad: (Float32Array | undefined)[], j: number, d: Float32Array): void {
  const g = grad[j];
  if (!g) {
    grad[j] = d;
    return;
  }
  // First sum into a fresh array: `g` may alias another node's gradient (reshape passes through).
  const sum = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) sum[i] = g[i] + d[i];
  grad[j] = sum;
}

/** Runs `graph` over `count` samples in chunks of `batchSize`; returns all outputs concatenated. */
export function predict(graph: Graph, inputs: Float32Array, count: number, batchSize = 256): Float32Array {
  const inputSize = size(graph.nodes[0].shape);
  const outNode = graph.nodes.find((n) => n.name === graph.output)!;
  const outSize = size(outNode.shape);
  const out = new Float32Array(count * outSize);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const pass = forward(graph, inputs.subarray(start * inputSize, (start + n) * inputSize), n);
    out.set(outputOf(pass), start * outSize);
  }
  return out;
}
