// fp32 graph files (models/*.json): a graph description plus its float32 parameters.
//
// {
//   "format": "sparrow-fp32-graph", "version": 1, "name": "reference-cnn",
//   "inputShape": [28, 28, 1],
//   "nodes": [                       // topological order, without the input node
//     { "name": "conv1", "kind": "conv2d", "inputs": ["input"], "shape": [14, 14, 8],
//       "stride": [2, 2], "padding": "same", "activation": "relu",
//       "weight": { "shape": [8, 3, 3, 1], "float32": "<base64 of little-endian float32>" },
//       "bias": { "shape": [8], "float32": "..." } },
//     ...
//   ],
//   "output": "fc",
//   "meta": { ... }                   // free-form: seed, training settings, accuracy reached
// }
//
// loadGraph replays the nodes through ModelBuilder, so every shape is re-derived and
// checked, then installs the stored parameters (FormatError on any mismatch).

import { FormatError, ShapeError } from '../formats/errors.js';
import { Random } from '../host/random.js';
import { ModelBuilder, type TensorRef } from './builder.js';
import { hasParams, size, type Graph, type Node, type Param, type PoolNode } from './graph.js';

export const GRAPH_FORMAT = 'sparrow-fp32-graph';

interface StoredParam { shape: number[]; float32: string }
type StoredNode = Record<string, unknown> & { name: string; kind: Node['kind']; inputs: string[]; shape: number[]; weight?: StoredParam; bias?: StoredParam };

export interface GraphFile {
  format: typeof GRAPH_FORMAT;
  version: 1;
  name: string;
  inputShape: number[];
  nodes: StoredNode[];
  output: string;
  meta?: Record<string, unknown>;
}

function encode(data: Float32Array): string {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Buffer.from(bytes).toString('base64');
}

function decode(text: string, count: number, what: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== count * 4) throw new FormatError(`${what}: ${bytes.length} bytes of float32 data, expected ${count * 4}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The JSON-ready description of `graph`, with `meta` stored alongside. */
export function saveGraph(graph: Graph, meta?: Record<string, unknown>): GraphFile {
  const nodes = graph.nodes.slice(1).map((node): StoredNode => {
    const stored: StoredNode = { ...node } as unknown as StoredNode;
    if (hasParams(node)) {
      stored.weight = { shape: node.weight.shape, float32: encode(node.weight.data) };
      stored.bias = { shape: node.bias.shape, float32: encode(node.bias.data) };
    }
    return stored;
  });
  return { format: GRAPH_FORMAT, version: 1, name: graph.name, inputShape: graph.nodes[0].shape, nodes, output: graph.output, ...(meta ? { meta } : {}) };
}

/** Rebuilds a graph from a file written by saveGraph (parsed JSON). */
export function loadGraph(json: unknown): Graph {
  const file = json as GraphFile;
  if (file?.format !== GRAPH_FORMAT || file.version !== 1) throw new FormatError(`not a ${GRAPH_FORMAT} version 1 file`);
  if (!Array.isArray(file.nodes) || !Array.isArray(file.inputShape)) throw new FormatError('graph file: nodes and inputShape must be arrays');
  const b = new ModelBuilder(file.name, file.inputShape);
  const refs = new Map<string, TensorRef>([['input', b.input()]]);
  const ref = (name: string, node: string): TensorRef => {
    const r = refs.get(name);
    if (!r) throw new FormatError(`graph file: node "${node}" reads "${name}", which is not an earlier node`);
    return r;
  };
  for (const n of file.nodes) {
    const x = ref(n.inputs?.[0], n.name);
    const out = replay(b, n, x, n.inputs.length > 1 ? ref(n.inputs[1], n.name) : x);
    if (out.shape.length !== n.shape?.length || out.shape.some((d, i) => d !== n.shape[i])) {
      throw new ShapeError(`graph file: node "${n.name}" stores shape [${n.shape}] but its inputs give [${out.shape}]`);
    }
    refs.set(n.name, out);
  }
  const graph = b.build(ref(file.output, 'output'), new Random(0));
  graph.nodes.forEach((node, i) => {
    if (!hasParams(node)) return;
    const stored = file.nodes[i - 1];
    install(node.weight, stored.weight);
    install(node.bias, stored.bias);
  });
  return graph;
}

function install(param: Param, stored: StoredParam | undefined): void {
  if (!stored || stored.shape?.length !== param.shape.length || stored.shape.some((d, i) => d !== param.shape[i])) {
    throw new FormatError(`graph file: ${param.name} must have shape [${param.shape}], found [${stored?.shape ?? 'nothing'}]`);
  }
  param.data = decode(stored.float32, size(param.shape), param.name);
}

type Stored<K extends Node['kind']> = Extract<Node, { kind: K }>;

function replay(b: ModelBuilder, n: StoredNode, x: TensorRef, second: TensorRef): TensorRef {
  const name = n.name;
  switch (n.kind) {
    case 'conv2d': {
      const s = n as unknown as Stored<'conv2d'>;
      const [filters, kH, kW] = n.weight?.shape ?? [];
      return b.conv2d(x, { filters, kernel: [kH, kW], stride: s.stride, padding: s.padding, activation: s.activation, name });
    }
    case 'depthwise_conv2d': {
      const s = n as unknown as Stored<'depthwise_conv2d'>;
      const [, kH, kW] = n.weight?.shape ?? [];
      return b.depthwise(x, { kernel: [kH, kW], stride: s.stride, padding: s.padding, activation: s.activation, name });
    }
    case 'fully_connected':
      return b.fullyConnected(x, { units: n.weight?.shape?.[0] ?? 0, activation: (n as unknown as Stored<'fully_connected'>).activation, name });
    case 'add':
      return b.add(x, second, { activation: (n as unknown as Stored<'add'>).activation, name });
    case 'avg_pool':
    case 'max_pool': {
      const s = n as unknown as PoolNode;
      const o = { pool: s.filter, stride: s.stride, padding: s.padding, name };
      return n.kind === 'avg_pool' ? b.avgPool(x, o) : b.maxPool(x, o);
    }
    case 'global_avg_pool': return b.globalAvgPool(x, { name });
    case 'relu': return b.relu(x, { name });
    case 'relu6': return b.relu6(x, { name });
    case 'reshape': return b.reshape(x, n.shape, { name });
    case 'softmax': return b.softmax(x, { name });
    default: throw new FormatError(`graph file: node "${name}" has unknown kind "${n.kind}"`);
  }
}
