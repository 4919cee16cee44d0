// Reshape / flatten: the same values under a new per-sample shape. Forward returns its
// input array itself (outputs are read-only by contract); backward passes dL/dy through.

import type { ReshapeNode } from '../graph.js';
import type { Fp32Op } from './op.js';

export const reshapeOp: Fp32Op<ReshapeNode> = {
  forward: (_node, [x]) => x,
  backward: (_node, _inputs, _shapes, _y, dy) => [dy],
};
