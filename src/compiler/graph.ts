// The host's fp32 graph IR: what the builder produces, the fp32 engine runs and trains,
// and the post-training quantizer turns into a QModel (src/formats/qmodel.ts).
//
// Conventions
// - Nodes are stored in topological order; nodes[0] is the single graph input.
// - `shape` is the per-sample shape of a node's output, without the batch dimension:
//   [H, W, C] for feature maps, [D] for vectors. At run time every tensor is batch first
//   (NHWC, or [N, D]) in one Float32Array of N * product(shape) values.
// - Parameters use TFLite layouts: conv2d [outC, kH, kW, inC] (OHWI), depthwise_conv2d
//   [1, kH, kW, C], fully_connected [out, in]; biases [outC]. A graph owns its parameter
//   arrays; training updates them in place.
// - Padding follows TFLite: SAME gives out = ceil(in / stride) with padTotal =
//   max((out - 1) * stride + k - in, 0) and padTop = floor(padTotal / 2); VALID gives
//   out = ceil((in - k + 1) / stride) and no padding.

import { ShapeError } from '../formats/errors.js';
import type { Activation, Padding } from '../formats/qmodel.js';

export type { Activation, Padding };

/** A trainable tensor. `data` is float32 in the layout given by `shape`. */
export interface Param {
  /** Unique in the graph, e.g. "conv_1/weight". */
  name: string;
  shape: number[];
  data: Float32Array;
}

interface NodeBase {
  /** Unique in the graph; also the name of the node's output tensor. */
  name: string;
  /** Names of the producing nodes, in operand order. */
  inputs: string[];
  /** Per-sample output shape (no batch dimension). */
  shape: number[];
}

export interface InputNode extends NodeBase { kind: 'input' }

/** Convolution; a pointwise convolution is a conv2d with a 1x1 kernel. */
export interface Conv2dNode extends NodeBase {
  kind: 'conv2d';
  stride: [number, number];
  padding: Padding;
  activation: Activation;
  weight: Param; // [outC, kH, kW, inC]
  bias: Param; // [outC]
}

/** Depthwise convolution with depth multiplier 1. */
export interface DepthwiseConv2dNode extends NodeBase {
  kind: 'depthwise_conv2d';
  stride: [number, number];
  padding: Padding;
  activation: Activation;
  weight: Param; // [1, kH, kW, C]
  bias: Param; // [C]
}

/** Dense layer; flattens its input (row-major NHWC) to [N, in]. */
export interface FullyConnectedNode extends NodeBase {
  kind: 'fully_connected';
  activation: Activation;
  weight: Param; // [out, in]
  bias: Param; // [out]
}

/** Elementwise sum of two tensors of the same shape. */
export interface AddNode extends NodeBase { kind: 'add'; activation: Activation }

/** Average pooling; SAME padding averages over the in-bounds taps only (as TFLite). */
export interface PoolNode extends NodeBase {
  kind: 'avg_pool' | 'max_pool';
  filter: [number, number];
  stride: [number, number];
  padding: Padding;
}

export interface GlobalAvgPoolNode extends NodeBase { kind: 'global_avg_pool' } // [H,W,C] -> [1,1,C]
export interface ActivationNode extends NodeBase { kind: 'relu' | 'relu6' }
/** Same data, new per-sample shape (flatten is a reshape to [size]). */
export interface ReshapeNode extends NodeBase { kind: 'reshape' }
/** Softmax over the last dimension. */
export interface SoftmaxNode extends NodeBase { kind: 'softmax' }

export type Node =
  | InputNode | Conv2dNode | DepthwiseConv2dNode | FullyConnectedNode | AddNode
  | PoolNode | GlobalAvgPoolNode | ActivationNode | ReshapeNode | SoftmaxNode;

export type NodeKind = Node['kind'];
export type ParamNode = Conv2dNode | DepthwiseConv2dNode | FullyConnectedNode;

export interface Graph {
  name: string;
  /** Topological order; nodes[0] is the input. */
  nodes: Node[];
  /** Name of the node whose output is the graph output. */
  output: string;
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function hasParams(node: Node): node is ParamNode {
  return node.kind === 'conv2d' || node.kind === 'depthwise_conv2d' || node.kind === 'fully_connected';
}

/** Every parameter of the graph, in node order (weight before bias). */
export function parameters(graph: Graph): Param[] {
  const out: Param[] = [];
  for (const node of graph.nodes) if (hasParams(node)) out.push(node.weight, node.bias);
  return out;
}

export function parameterCount(graph: Graph): number {
  return parameters(graph).reduce((n, p) => n + p.data.length, 0);
}

/** Output extent and leading padding of one spatial axis, as TFLite computes them. */
export function convAxis(input: number, kernel: number, stride: number, padding: Padding): { out: number; padBefore: number } {
  if (padding === 'same') {
    const out = Math.ceil(input / stride);
    const total = Math.max((out - 1) * stride + kernel - input, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  return { out: Math.ceil((input - kernel + 1) / stride), padBefore: 0 };
}

/** The index of every node by name; throws ShapeError on a duplicate or dangling name. */
export function indexNodes(graph: Graph): Map<string, number> {
  const index = new Map<string, number>();
  graph.nodes.forEach((node, i) => {
    if (index.has(node.name)) throw new ShapeError(`graph "${graph.name}": duplicate node name "${node.name}"`);
    for (const input of node.inputs) {
      if (!index.has(input)) throw new ShapeError(`node "${node.name}": input "${input}" is not an earlier node`);
    }
    index.set(node.name, i);
  });
  if (graph.nodes[0]?.kind !== 'input') throw new ShapeError(`graph "${graph.name}": nodes[0] must be the input`);
  if (!index.has(graph.output)) throw new ShapeError(`graph "${graph.name}": output "${graph.output}" is not a node`);
  return index;
}

/** A deep copy whose parameters can be trained without touching the original. */
export function cloneGraph(graph: Graph): Graph {
  const nodes = graph.nodes.map((node): Node => {
    const copy = { ...node, inputs: [...node.inputs], shape: [...node.shape] } as Node;
    if (hasParams(copy) && hasParams(node)) {
      copy.weight = { ...node.weight, shape: [...node.weight.shape], data: node.weight.data.slice() };
      copy.bias = { ...node.bias, shape: [...node.bias.shape], data: node.bias.data.slice() };
    }
    return copy;
  });
  return { name: graph.name, nodes, output: graph.output };
}
