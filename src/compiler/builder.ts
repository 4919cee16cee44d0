// ModelBuilder: the public way to describe an fp32 model in TypeScript.
//
//   const b = new ModelBuilder('reference-cnn', [28, 28, 1]);
//   let x = b.input();
//   x = b.conv2d(x, { filters: 8, kernel: 3, stride: 2, padding: 'same', activation: 'relu' });
//   x = b.depthwise(x, { kernel: 3, activation: 'relu' });
//   x = b.globalAvgPool(x);
//   x = b.fullyConnected(x, { units: 10 });
//   const graph = b.build(x, new Random(seed));
//
// Every call infers and checks its output shape (ShapeError naming the node). Parameters
// are created by build(): He-normal weights (std = sqrt(2 / fanIn)) and zero biases.

import { ShapeError } from '../formats/errors.js';
import type { Random } from '../host/random.js';
import { convAxis, size, type Activation, type Graph, type Node, type Padding, type Param } from './graph.js';

/** A handle on a node's output while building. */
export interface TensorRef {
  readonly node: string;
  /** Per-sample shape (no batch dimension). */
  readonly shape: readonly number[];
}

export interface Conv2dOptions {
  filters: number;
  /** Square kernel size, or [kH, kW]. */
  kernel: number | [number, number];
  /** Default 1. */
  stride?: number | [number, number];
  /** Default 'same'. */
  padding?: Padding;
  /** Default 'none'. */
  activation?: Activation;
  name?: string;
}

export interface DepthwiseOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  padding?: Padding;
  activation?: Activation;
  name?: string;
}

export interface PointwiseOptions { filters: number; activation?: Activation; name?: string }
export interface FullyConnectedOptions { units: number; activation?: Activation; name?: string }

export interface PoolOptions {
  /** Square window size, or [kH, kW]. */
  pool: number | [number, number];
  /** Default: the window size. */
  stride?: number | [number, number];
  /** Default 'valid'. */
  padding?: Padding;
  name?: string;
}

/** A node before build(): parameters are described by shape and fan-in only. */
type PendingNode = Node extends infer N ? (N extends { weight: Param } ? Omit<N, 'weight' | 'bias'> & { paramShapes: [number[], number[]]; fanIn: number } : N) : never;

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

export class ModelBuilder {
  private readonly nodes: PendingNode[] = [];
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();

  /** @param inputShape per-sample input shape, e.g. [28, 28, 1] (HWC) or [784]. */
  constructor(readonly name: string, readonly inputShape: readonly number[]) {
    if (inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`model "${name}": input shape [${inputShape}] must be positive integers`);
    }
    this.push({ kind: 'input', name: 'input', inputs: [], shape: [...inputShape] });
  }

  /** The graph input. */
  input(): TensorRef {
    return { node: 'input', shape: this.nodes[0].shape };
  }

  /** 2-D convolution, weight [filters, kH, kW, inC], with a fused activation. */
  conv2d(x: TensorRef, o: Conv2dOptions): TensorRef {
    const name = this.nameFor('conv2d', o.name);
    const [H, W, C] = this.featureMap(x, name);
    const [kH, kW] = pair(o.kernel);
    const stride = pair(o.stride ?? 1);
    const padding = o.padding ?? 'same';
    const shape = [...this.window(name, [H, W], [kH, kW], stride, padding), o.filters];
    this.checkPositive(name, 'filters', o.filters);
    return this.push({
      kind: 'conv2d', name, inputs: [x.node], shape, stride, padding, activation: o.activation ?? 'none',
      paramShapes: [[o.filters, kH, kW, C], [o.filters]], fanIn: kH * kW * C,
    });
  }

  /** Depthwise convolution (multiplier 1), weight [1, kH, kW, C], with a fused activation. */
  depthwise(x: TensorRef, o: DepthwiseOptions): TensorRef {
    const name = this.nameFor('depthwise', o.name);
    const [H, W, C] = this.featureMap(x, name);
    const [kH, kW] = pair(o.kernel);
    const stride = pair(o.stride ?? 1);
    const padding = o.padding ?? 'same';
    const shape = [...this.window(name, [H, W], [kH, kW], stride, padding), C];
    return this.push({
      kind: 'depthwise_conv2d', name, inputs: [x.node], shape, stride, padding, activation: o.activation ?? 'none',
      paramShapes: [[1, kH, kW, C], [C]], fanIn: kH * kW,
    });
  }

  /** 1x1 convolution, stride 1 (a conv2d node with a 1x1 kernel). */
  pointwise(x: TensorRef, o: PointwiseOptions): TensorRef {
    return this.conv2d(x, { filters: o.filters, kernel: 1, activation: o.activation, name: o.name ?? this.nameFor('pointwise') });
  }

  /** Dense layer over the flattened input, weight [units, inputSize]. */
  fullyConnected(x: TensorRef, o: FullyConnectedOptions): TensorRef {
    const name = this.nameFor('fc', o.name);
    this.checkPositive(name, 'units', o.units);
    const inDim = size(x.shape);
    return this.push({
      kind: 'fully_connected', name, inputs: [x.node], shape: [o.units], activation: o.activation ?? 'none',
      paramShapes: [[o.units, inDim], [o.units]], fanIn: inDim,
    });
  }

  /** a + b, same shapes, with a fused activation. */
  add(a: TensorRef, b: TensorRef, o: { activation?: Activation; name?: string } = {}): TensorRef {
    const name = this.nameFor('add', o.name);
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new ShapeError(`node "${name}": add of [${a.shape}] and [${b.shape}]: shapes must be equal`);
    }
    return this.push({ kind: 'add', name, inputs: [a.node, b.node], shape: [...a.shape], activation: o.activation ?? 'none' });
  }

  avgPool(x: TensorRef, o: PoolOptions): TensorRef {
    return this.pool('avg_pool', x, o);
  }

  maxPool(x: TensorRef, o: PoolOptions): TensorRef {
    return this.pool('max_pool', x, o);
  }

  /** Mean over H and W: [H, W, C] -> [1, 1, C]. */
  globalAvgPool(x: TensorRef, o: { name?: string } = {}): TensorRef {
    const name = this.nameFor('global_avg_pool', o.name);
    const [, , C] = this.featureMap(x, name);
    return this.push({ kind: 'global_avg_pool', name, inputs: [x.node], shape: [1, 1, C] });
  }

  relu(x: TensorRef, o: { name?: string } = {}): TensorRef {
    const name = this.nameFor('relu', o.name);
    return this.push({ kind: 'relu', name, inputs: [x.node], shape: [...x.shape] });
  }

  relu6(x: TensorRef, o: { name?: string } = {}): TensorRef {
    const name = this.nameFor('relu6', o.name);
    return this.push({ kind: 'relu6', name, inputs: [x.node], shape: [...x.shape] });
  }

  /** Same values, new per-sample shape of the same size. */
  reshape(x: TensorRef, shape: readonly number[], o: { name?: string } = {}): TensorRef {
    const name = this.nameFor('reshape', o.name);
    if (size(shape) !== size(x.shape) || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`node "${name}": cannot reshape [${x.shape}] (${size(x.shape)} values) to [${shape}]`);
    }
    return this.push({ kind: 'reshape', name, inputs: [x.node], shape: [...shape] });
  }

  /** Reshape to [size]. */
  flatten(x: TensorRef, o: { name?: string } = {}): TensorRef {
    return this.reshape(x, [size(x.shape)], { name: o.name ?? this.nameFor('flatten') });
  }

  /** Softmax over the last dimension. */
  softmax(x: TensorRef, o: { name?: string } = {}): TensorRef {
    const name = this.nameFor('softmax', o.name);
    return this.push({ kind: 'softmax', name, inputs: [x.node], shape: [...x.shape] });
  }

  /**
   * Creates the graph ending at `output`, drawing He-normal weights from `rng` in node
   * order (so a seed fixes every weight). The builder can be built again with another rng.
   */
  build(output: TensorRef, rng: Random): Graph {
    if (!this.names.has(output.node)) throw new ShapeError(`model "${this.name}": output "${output.node}" is not a node of this builder`);
    const nodes = this.nodes.map((pending): Node => {
      if (!('paramShapes' in pending)) return { ...pending, inputs: [...pending.inputs], shape: [...pending.shape] } as Node;
      const { paramShapes: [wShape, bShape], fanIn, ...rest } = pending;
      const std = Math.sqrt(2 / fanIn);
      const weight: Param = { name: `${rest.name}/weight`, shape: wShape, data: new Float32Array(size(wShape)) };
      for (let i = 0; i < weight.data.length; i++) weight.data[i] = std * rng.normal();
      const bias: Param = { name: `${rest.name}/bias`, shape: bShape, data: new Float32Array(size(bShape)) };
      return { ...rest, inputs: [...rest.inputs], shape: [...rest.shape], weight, bias } as Node;
    });
    return { name: this.name, nodes, output: output.node };
  }

  private pool(kind: 'avg_pool' | 'max_pool', x: TensorRef, o: PoolOptions): TensorRef {
    const name = this.nameFor(kind, o.name);
    const [H, W, C] = this.featureMap(x, name);
    const filter = pair(o.pool);
    const stride = pair(o.stride ?? o.pool);
    const padding = o.padding ?? 'valid';
    const shape = [...this.window(name, [H, W], filter, stride, padding), C];
    return this.push({ kind, name, inputs: [x.node], shape, filter, stride, padding });
  }

  private push(node: PendingNode): TensorRef {
    if (this.names.has(node.name)) throw new ShapeError(`model "${this.name}": node name "${node.name}" is used twice`);
    for (const input of node.inputs) {
      if (!this.names.has(input)) throw new ShapeError(`node "${node.name}": input "${input}" is not a node of this builder`);
    }
    this.names.add(node.name);
    this.nodes.push(node);
    return { node: node.name, shape: node.shape };
  }

  private nameFor(prefix: string, given?: string): string {
    if (given !== undefined) return given;
    let k = this.counters.get(prefix) ?? 0;
    while (this.names.has(`${prefix}_${k}`)) k++;
    this.counters.set(prefix, k + 1);
    return `${prefix}_${k}`;
  }

  private featureMap(x: TensorRef, name: string): [number, number, number] {
    if (x.shape.length !== 3) throw new ShapeError(`node "${name}": needs an [H, W, C] input, got [${x.shape}]`);
    return [x.shape[0], x.shape[1], x.shape[2]];
  }

  private window(name: string, [H, W]: [number, number], [kH, kW]: [number, number], stride: [number, number], padding: Padding): [number, number] {
    for (const v of [kH, kW, ...stride]) this.checkPositive(name, 'kernel and stride', v);
    const rows = convAxis(H, kH, stride[0], padding).out;
    const cols = convAxis(W, kW, stride[1], padding).out;
    if (rows < 1 || cols < 1) {
      throw new ShapeError(`node "${name}": a ${kH}x${kW} ${padding.toUpperCase()} window does not fit a ${H}x${W} input`);
    }
    return [rows, cols];
  }

  private checkPositive(name: string, what: string, v: number): void {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`node "${name}": ${what} must be a positive integer, got ${v}`);
  }
}
