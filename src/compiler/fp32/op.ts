// The contract every fp32 op implements: one forward and one backward, over a batch.
//
// Buffers: every tensor is a Float32Array of batch * product(perSampleShape) values,
// batch first (NHWC or [N, D]). Ops never write into their inputs; forward returns a
// new array (reshape may return its input unchanged: callers treat outputs as read-only).
// backward returns dL/d(each input) in operand order and ADDS dL/d(each parameter),
// summed over the batch, into `grads` (see gradOf).

import type { Node, Param } from '../graph.js';

/** dL/dparam arrays keyed by Param.name, same layout as the parameter. */
export type ParamGrads = Map<string, Float32Array>;

export interface Fp32Op<N extends Node = Node> {
  forward(node: N, inputs: readonly Float32Array[], inShapes: readonly (readonly number[])[], batch: number): Float32Array;
  backward(
    node: N,
    inputs: readonly Float32Array[],
    inShapes: readonly (readonly number[])[],
    output: Float32Array,
    dOutput: Float32Array,
    batch: number,
    grads: ParamGrads,
  ): Float32Array[];
}

/** The gradient accumulator of `param`, created zeroed on first use. */
export function gradOf(grads: ParamGrads, param: Param): Float32Array {
  let g = grads.get(param.name);
  if (!g) {
    g = new Float32Array(param.data.length);
    grads.set(param.name, g);
  }
  return g;
}
