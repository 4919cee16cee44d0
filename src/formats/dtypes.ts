// DType names and sizes as the host speaks of them (schema.ts holds the numbers).
import type { DTypeName } from './qmodel.js';
import { DType } from './schema.js';

export const DTYPE_NAMES: Readonly<Record<DType, DTypeName>> = {
  [DType.INT8]: 'int8',
  [DType.INT32]: 'int32',
  [DType.FLOAT32]: 'float32',
  [DType.UINT8]: 'uint8',
};

export const DTYPE_OF: Readonly<Record<DTypeName, DType>> = { int8: DType.INT8, int32: DType.INT32, float32: DType.FLOAT32, uint8: DType.UINT8 };

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { [DType.INT8]: 1, [DType.INT32]: 4, [DType.FLOAT32]: 4, [DType.UINT8]: 1 };
