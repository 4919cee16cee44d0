// Helpers for containers whose partly trained layers keep only their trained rows (compact rows).
import type { TrainableTensor } from '../../src/compiler/train/lower_train.js';
import { UPDATE_COMPACT_ROWS } from '../../src/formats/container_op_rules.js';
import type { OpRecord } from '../../src/formats/container_types.js';
import { Op } from '../../src/formats/schema.js';

/** UPDATE_FLAGS bit 3 when weight update `op` updates a compact-rows TRAINABLE tensor, else 0. */
export function compactBit(trainables: TrainableTensor[], op: OpRecord): number {
  if (op.op === Op.BIAS_UPDATE) return 0;
  return trainables.find((t) => t.tensor === op.inputs[2])?.rows ? UPDATE_COMPACT_ROWS : 0;
}
