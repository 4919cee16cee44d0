// The fp32 graph of an int8 QModel, for the train-step planner (autodiff.ts works on the graph
// IR) and for the fp32 reference step (reference_step.ts). Node names are the QModel's tensor
// names, so a plan buffer, a graph node and a container tensor share one name.
//
// Shape of the QModel this accepts (what quantizeGraph produces): one float32 input, a
// `quantize` op first, then int8 ops, then an optional `softmax` and a `dequantize` last. The
// graph's input node is the quantize op's int8 output; its output node is the logits (the
// input of the softmax, or of the dequantize). Parameters are dequantized:
// W = s_w[c] W_q, b = s_x s_w[c] b_q.

import { ShapeError } from '../../formats/errors.js';
import type { QModel, QOp, QTensor } from '../../formats/qmodel.js';
import type { Graph, Node, ParamNode } from '../graph.js';

export interface QModelGraph {
  graph: Graph;
  /** The float32 sample tensor (graph input of the QModel). */
  sample: string;
  /** The QModel ops that make the graph's nodes (quantize first), by node name. */
  opOf: Map<string, QOp>;
}

/** The fp32 graph of `model`; ShapeError names the op that does not fit the pattern above. */
export function graphOfQModel(model: QModel): QModelGraph {
  const tensors = new Map(model.tensors.map((t) => [t.name, t]));
  const ops = model.ops;
  const first = ops[0];
  if (model.inputs.length !== 1 || first?.op !== 'quantize' || first.inputs[0] !== model.inputs[0]) {
    throw new ShapeError(`model '${model.name}': a train step needs one float32 input quantized by the first op`);
  }
  let end = ops.length;
  if (ops[end - 1]?.op === 'dequantize') end--;
  if (ops[end - 1]?.op === 'softmax') end--; // the loss applies the softmax to the logits
  const inputName = first.outputs[0];
  const opOf = new Map<string, QOp>([[inputName, first]]);
  const nodes: Node[] = [{ kind: 'input', name: inputName, inputs: [], shape: perSample(tensor(tensors, inputName)) }];
  for (const op of ops.slice(1, end)) {
    const out = tensor(tensors, op.outputs[0]);
    const node = nodeOf(op, out, tensors);
    opOf.set(node.name, op);
    nodes.push(node);
  }
  const graph: Graph = { name: model.name ?? 'model', nodes, output: nodes[nodes.length - 1].name };
  return { graph, sample: model.inputs[0], opOf };
}

function tensor(tensors: Map<string, QTensor>, name: string): QTensor {
  const t = tensors.get(name);
  if (!t) throw new ShapeError(`tensor '${name}' is not in the model`);
  return t;
}

/** The per-sample shape: batch dimension dropped ([1,H,W,C] -> [H,W,C], [1,D] -> [D]). */
function perSample(t: QTensor): number[] {
  return t.shape.slice(1);
}

function nodeOf(op: QOp, out: QTensor, tensors: Map<string, QTensor>): Node {
  const base = { name: out.name, inputs: op.inputs.filter((n) => !tensors.get(n)?.data), shape: perSample(out) };
  const activation = op.activation ?? 'none';
  switch (op.op) {
    case 'conv2d': case 'depthwise_conv2d': {
      const params = dequantizedParams(op, tensors);
      return { ...base, inputs: [op.inputs[0]], kind: op.op, stride: op.stride ?? [1, 1], padding: op.padding ?? 'valid', activation, ...params } as ParamNode;
    }
    case 'fully_connected':
      return { ...base, inputs: [op.inputs[0]], kind: 'fully_connected', activation, ...dequantizedParams(op, tensors) };
    case 'add': return { ...base, kind: 'add', activation };
    case 'avg_pool': case 'max_pool':
      return { ...base, kind: op.op, filter: op.filter!, stride: op.stride ?? [1, 1], padding: op.padding ?? 'valid' };
    case 'global_avg_pool': return { ...base, kind: 'global_avg_pool' };
    case 'reshape': return { ...base, kind: 'reshape' };
    default:
      throw new ShapeError(`op '${op.op}' -> '${out.name}' cannot be part of a train step (only the first op quantizes and the last dequantizes)`);
  }
}

/** W = s_w[c] W_q and b = s_x s_w[c] b_q, in the QModel's layouts; a missing bias is zeros. */
function dequantizedParams(op: QOp, tensors: Map<string, QTensor>): Pick<ParamNode, 'weight' | 'bias'> {
  const x = tensor(tensors, op.inputs[0]);
  const w = tensor(tensors, op.inputs[1]);
  const depthwise = op.op === 'depthwise_conv2d';
  const channels = depthwise ? w.shape[3] : w.shape[0];
  const scales = w.quant!.scale;
  const sw = (c: number) => (scales.length === 1 ? scales[0] : scales[c]);
  const perRow = w.data!.length / channels;
  const channelOf = depthwise ? (i: number) => i % channels : (i: number) => Math.floor(i / perRow);
  const weight = Float32Array.from(w.data!, (q, i) => q * sw(channelOf(i)));
  const b = op.inputs[2] ? tensor(tensors, op.inputs[2]) : undefined;
  const sx = x.quant!.scale[0];
  const bias = Float32Array.from({ length: channels }, (_, c) => (b ? b.data![c] * sx * sw(c) : 0));
  return {
    weight: { name: w.name, shape: [...w.shape], data: weight },
    bias: { name: b?.name ?? `${op.outputs[0]}/bias`, shape: [channels], data: bias },
  };
}
