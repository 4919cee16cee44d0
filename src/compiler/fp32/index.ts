// The fp32 op table: one line per node kind, forward and backward together.

import type { Node, NodeKind } from '../graph.js';
import { activationOp } from './activation.js';
import { addOp } from './add.js';
import { avgPoolOp } from './avg_pool.js';
import { conv2dOp } from './conv2d.js';
import { depthwiseConv2dOp } from './depthwise_conv2d.js';
import { fullyConnectedOp } from './fully_connected.js';
import { globalAvgPoolOp } from './global_avg_pool.js';
import { maxPoolOp } from './max_pool.js';
import type { Fp32Op } from './op.js';
import { reshapeOp } from './reshape.js';
import { softmaxOp } from './softmax.js';

type OpTable = { [K in Exclude<NodeKind, 'input'>]: Fp32Op<Extract<Node, { kind: K }>> };

export const fp32Ops: OpTable = {
  conv2d: conv2dOp,
  depthwise_conv2d: depthwiseConv2dOp,
  fully_connected: fullyConnectedOp,
  add: addOp,
  avg_pool: avgPoolOp,
  max_pool: maxPoolOp,
  global_avg_pool: globalAvgPoolOp,
  relu: activationOp,
  relu6: activationOp,
  reshape: reshapeOp,
  softmax: softmaxOp,
};

export type { Fp32Op, ParamGrads } from './op.js';
export { softmaxCrossEntropy, type LossResult } from './softmax_cross_entropy.js';
export { meanSquaredError } from './mse.js';
