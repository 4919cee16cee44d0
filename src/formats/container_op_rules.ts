// Per-op rules of the container (docs/format.md, "OPS"): one row per op says which inputs
// it takes, their dtypes, its output dtype and what each of its 12 params means. The
// container reader (and through it the writer) applies them; the device reader
// (src/runtime/container.ts) holds the same rows in OP_TABLE and applies them in the same
// order, so host and device reject the same bytes at the same offset.

import { DType, Op, OP_COUNT, OP_PARAM_COUNT } from './schema.js';
import { validateGroupSparse } from './sparse.js';
import { FormatError } from './errors.js';

/** What a param must hold. Numbering shared with the device table. */
export enum Param {
  /** Must be 0. */
  UNUSED = 0,
  /** 1..255. */
  STRIDE = 1,
  /** >= 0; the SAME/VALID rule in checkOpShapes fixes its value. */
  PAD = 2,
  /** -128..127. */
  ACT_MIN = 3,
  /** -128..127 and >= the preceding ACT_MIN param. */
  ACT_MAX = 4,
  /** Pool window, 1..255. */
  FILTER = 5,
  /** ADD's input pre-shift, 0..23 (255 << 23 still fits an i32). */
  LEFT_SHIFT = 6,
  /** Q31 multiplier: 0 or 2^30..2^31-1. */
  MULTIPLIER = 7,
  /** Power-of-two exponent, -31..30 (positive = left). */
  SHIFT = 8,
  /** SOFTMAX input multiplier, 2^30..2^31-1 (from QuantizeMultiplierGreaterThanOne). */
  SOFTMAX_MULTIPLIER = 9,
  /** SOFTMAX input left shift, 0..31. */
  SOFTMAX_SHIFT = 10,
  /** SOFTMAX diffMin, <= 0. */
  DIFF_MIN = 11,
}

export interface SlotRule {
  name: string;
  /** Required dtype; 0 accepts any. */
  dtype: DType | 0;
  /** May be 0xFFFF (absent). */
  optional?: boolean;
  /** Must be a CONST tensor (its values are checked at load). */
  constOnly?: boolean;
}

export interface OpRule {
  inputs: SlotRule[];
  /** Output dtype; 0 means "same as input 0". */
  output: DType | 0;
  /** Params by index; missing entries are UNUSED. */
  params: Param[];
  /** The output may take the buffer of an input that dies at this op. */
  inPlace?: boolean;
}

const x8: SlotRule = { name: 'x', dtype: DType.INT8 };
const convInputs: SlotRule[] = [
  x8,
  { name: 'w', dtype: DType.INT8 },
  { name: 'b', dtype: DType.INT32, optional: true },
  { name: 'rq', dtype: DType.INT32, constOnly: true },
];
/** Sparse ops take a group-sparse weight blob (docs/sparse.md) where dense ones take the filter. */
const sparseInputs: SlotRule[] = [x8, { name: 'w', dtype: DType.UINT8, constOnly: true }, convInputs[2], convInputs[3]];
const { STRIDE, PAD, ACT_MIN, ACT_MAX, FILTER, MULTIPLIER, SHIFT, UNUSED } = Param;
const convParams = [STRIDE, STRIDE, PAD, PAD, ACT_MIN, ACT_MAX];
const poolParams = [FILTER, FILTER, STRIDE, STRIDE, PAD, PAD, ACT_MIN, ACT_MAX];

export const OP_RULES: Record<Op, OpRule> = {
  [Op.CONV2D]: { inputs: convInputs, output: DType.INT8, params: convParams },
  [Op.DEPTHWISE_CONV2D]: { inputs: convInputs, output: DType.INT8, params: convParams },
  [Op.CONV1X1]: { inputs: convInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  [Op.FULLY_CONNECTED]: { inputs: convInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  [Op.ADD]: {
    inputs: [{ name: 'a', dtype: DType.INT8 }, { name: 'b', dtype: DType.INT8 }], output: DType.INT8, inPlace: true,
    params: [Param.LEFT_SHIFT, MULTIPLIER, SHIFT, MULTIPLIER, SHIFT, MULTIPLIER, SHIFT, ACT_MIN, ACT_MAX],
  },
  [Op.AVG_POOL]: { inputs: [x8], output: DType.INT8, params: poolParams },
  [Op.MAX_POOL]: { inputs: [x8], output: DType.INT8, params: poolParams },
  [Op.GLOBAL_AVG_POOL]: { inputs: [x8], output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  [Op.RESHAPE]: { inputs: [{ name: 'x', dtype: 0 }], output: 0, params: [], inPlace: true },
  [Op.SOFTMAX]: { inputs: [x8], output: DType.INT8, params: [Param.SOFTMAX_MULTIPLIER, Param.SOFTMAX_SHIFT, Param.DIFF_MIN] },
  [Op.QUANTIZE]: { inputs: [{ name: 'x', dtype: DType.FLOAT32 }], output: DType.INT8, params: [] },
  [Op.DEQUANTIZE]: { inputs: [x8], output: DType.FLOAT32, params: [] },
  [Op.SPARSE_CONV1X1]: { inputs: sparseInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  [Op.SPARSE_FULLY_CONNECTED]: { inputs: sparseInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
};

/** Read access to one op record and the tensors it names (all indices already checked). */
export interface OpView {
  op: Op;
  /** File offset of the op record. */
  record: number;
  /** The 4 input slots (0xFFFF when empty). */
  ids: number[];
  output: number;
  param(i: number): number;
  /** 4 dims, padded with 1. */
  dims(t: number): number[];
  rank(t: number): number;
  scale(t: number): number;
  zeroPoint(t: number): number;
  dtype(t: number): number;
  /** Element i of a CONST int32 tensor and its file offset. */
  constI32(t: number, i: number): [number, number];
  /** The bytes of a CONST tensor and their file offset. */
  constBytes(t: number): [Uint8Array, number];
}

export type Fail = (offset: number, message: string) => never;

const inRange = (v: number, lo: number, hi: number): boolean => v >= lo && v <= hi;
const Q31_MIN = 0x40000000, I32_MAX = 0x7fffffff;

/** Checks params 0..11 in order against the op's row. */
export function checkOpParams(v: OpView, bad: Fail): void {
  const kinds = OP_RULES[v.op].params;
  for (let i = 0; i < OP_PARAM_COUNT; i++) {
    const p = v.param(i);
    const kind = kinds[i] ?? Param.UNUSED;
    const ok = [
      p === 0, // UNUSED
      inRange(p, 1, 255), // STRIDE
      p >= 0, // PAD
      inRange(p, -128, 127), // ACT_MIN
      inRange(p, -128, 127) && p >= v.param(i - 1), // ACT_MAX
      inRange(p, 1, 255), // FILTER
      inRange(p, 0, 23), // LEFT_SHIFT
      p === 0 || p >= Q31_MIN, // MULTIPLIER
      inRange(p, -31, 30), // SHIFT
      p >= Q31_MIN, // SOFTMAX_MULTIPLIER
      inRange(p, 0, 31), // SOFTMAX_SHIFT
      p <= 0, // DIFF_MIN
    ][kind];
    if (!ok) bad(v.record + 16 + 4 * i, `param ${i} (${Param[kind]}) = ${p} is out of range`);
  }
}

/**
 * Output size along one spatial axis must be TFLite's VALID or SAME result, and the stored
 * leading pad the one SAME implies (VALID: 0). Every window then touches the input.
 */
export function spatialOk(inSize: number, k: number, stride: number, pad: number, out: number): boolean {
  const valid = pad === 0 && inSize >= k && out === Math.floor((inSize - k) / stride) + 1;
  const same = out === Math.ceil(inSize / stride) && pad === Math.floor(Math.max((out - 1) * stride + k - inSize, 0) / 2);
  return valid || same;
}

const eq = (a: number[], b: number[]): boolean => a.every((x, i) => x === b[i]);
const elements = (d: number[]): number => d[0] * d[1] * d[2] * d[3];

/** Shapes, quantization and requantization tables, in the order the device checks them. */
export function checkOpShapes(v: OpView, bad: Fail): void {
  const slot = (s: number): number => v.record + 4 + 2 * s;
  const outAt = v.record + 12;
  const [x, w, b, rq] = v.ids;
  const xd = v.dims(x), od = v.dims(v.output);
  const need = (cond: boolean, at: number, msg: string): void => {
    if (!cond) bad(at, msg);
  };
  switch (v.op) {
    case Op.CONV2D: case Op.DEPTHWISE_CONV2D: case Op.CONV1X1: case Op.FULLY_CONNECTED: {
      const wd = v.dims(w);
      const fc = v.op === Op.FULLY_CONNECTED;
      const dw = v.op === Op.DEPTHWISE_CONV2D;
      const outC = dw ? wd[3] : wd[0];
      need(fc || v.rank(x) === 4, slot(0), `x must be rank 4 [N,H,W,C], is rank ${v.rank(x)}`);
      if (fc) need(v.rank(w) === 2 && wd[1] * xd[0] === elements(xd), slot(1), `w [${wd.slice(0, 2)}] must be [Co, size(x)/N] for x [${xd}]`);
      else if (dw) need(v.rank(w) === 4 && wd[0] === 1 && wd[3] === xd[3], slot(1), `w [${wd}] must be [1,kH,kW,${xd[3]}]`);
      else if (v.op === Op.CONV1X1) need(v.rank(w) === 4 && wd[1] === 1 && wd[2] === 1 && wd[3] === xd[3], slot(1), `w [${wd}] must be [Co,1,1,${xd[3]}]`);
      else need(v.rank(w) === 4 && wd[3] === xd[3], slot(1), `w [${wd}] must be [Co,kH,kW,${xd[3]}]`);
      if (b !== 0xffff) need(v.rank(b) === 1 && v.dims(b)[0] === outC, slot(2), `b must be [${outC}]`);
      need(v.rank(rq) === 2 && v.dims(rq)[0] === outC && v.dims(rq)[1] === 2, slot(3), `rq must be [${outC},2]`);
      if (fc) {
        need(v.rank(v.output) === 2 && od[0] === xd[0] && od[1] === outC, outAt, `output [${od}] must be [${xd[0]},${outC}]`);
      } else {
        const [kH, kW] = v.op === Op.CONV1X1 ? [1, 1] : [wd[1], wd[2]];
        const [sH, sW, pT, pL] = v.op === Op.CONV1X1 ? [1, 1, 0, 0] : [v.param(0), v.param(1), v.param(2), v.param(3)];
        need(v.rank(v.output) === 4 && od[0] === xd[0] && od[3] === outC && spatialOk(xd[1], kH, sH, pT, od[1]) && spatialOk(xd[2], kW, sW, pL, od[2]),
          outAt, `output [${od}] does not follow from x [${xd}], kernel ${kH}x${kW}, stride ${sH}x${sW}, pad ${pT},${pL}`);
      }
      checkRequantTable(v, rq, outC, bad);
      return;
    }
    case Op.SPARSE_CONV1X1: case Op.SPARSE_FULLY_CONNECTED: {
      const fc = v.op === Op.SPARSE_FULLY_CONNECTED;
      need(fc || v.rank(x) === 4, slot(0), `x must be rank 4 [N,H,W,C], is rank ${v.rank(x)}`);
      const outC = fc ? od[1] : od[3];
      const inC = fc ? elements(xd) / xd[0] : xd[3];
      if (fc) need(v.rank(v.output) === 2 && od[0] === xd[0], outAt, `output [${od}] must be [${xd[0]}, Co]`);
      else need(v.rank(v.output) === 4 && od[0] === xd[0] && od[1] === xd[1] && od[2] === xd[2], outAt, `output [${od}] must be [${xd.slice(0, 3)}, Co]`);
      need(v.rank(w) === 1, slot(1), 'the sparse weight blob must be rank 1');
      const [blob, blobAt] = v.constBytes(w);
      try {
        validateGroupSparse(blob, outC, inC);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        bad(blobAt + (e.offset ?? 0), `sparse weights (tensor ${w}): ${e.message.replace(/ \(at byte \d+\)$/, '')}`);
      }
      if (b !== 0xffff) need(v.rank(b) === 1 && v.dims(b)[0] === outC, slot(2), `b must be [${outC}]`);
      need(v.rank(rq) === 2 && v.dims(rq)[0] === outC && v.dims(rq)[1] === 2, slot(3), `rq must be [${outC},2]`);
      checkRequantTable(v, rq, outC, bad);
      return;
    }
    case Op.ADD:
      need(v.rank(w) === v.rank(x) && eq(v.dims(w), xd), slot(1), 'b must have the shape of a');
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of a');
      return;
    case Op.AVG_POOL: case Op.MAX_POOL: case Op.GLOBAL_AVG_POOL: {
      need(v.rank(x) === 4, slot(0), 'x must be rank 4 [N,H,W,C]');
      const shapeOk = v.op === Op.GLOBAL_AVG_POOL
        ? od[1] === 1 && od[2] === 1
        : spatialOk(xd[1], v.param(0), v.param(2), v.param(4), od[1]) && spatialOk(xd[2], v.param(1), v.param(3), v.param(5), od[2]);
      need(v.rank(v.output) === 4 && od[0] === xd[0] && od[3] === xd[3] && shapeOk, outAt, `output [${od}] does not follow from x [${xd}] and the pool params`);
      need(v.scale(v.output) === v.scale(x) && v.zeroPoint(v.output) === v.zeroPoint(x), outAt, 'pool output must keep the input scale and zero point');
      return;
    }
    case Op.RESHAPE:
      need(elements(od) === elements(xd), outAt, `output [${od}] does not hold the ${elements(xd)} elements of x`);
      need(v.scale(v.output) === v.scale(x) && v.zeroPoint(v.output) === v.zeroPoint(x), outAt, 'RESHAPE output must keep the input scale and zero point');
      return;
    case Op.SOFTMAX:
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of x');
      need(v.scale(v.output) === 1 / 256 && v.zeroPoint(v.output) === -128, outAt, 'SOFTMAX output must have scale 1/256 and zero point -128');
      return;
    case Op.QUANTIZE:
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of x');
      need(v.scale(v.output) > 0, outAt, 'QUANTIZE output needs a scale > 0');
      return;
    case Op.DEQUANTIZE:
      need(v.scale(x) > 0, slot(0), 'DEQUANTIZE input needs a scale > 0');
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of x');
      return;
  }
}

/** Every (multiplier, shift) of a requantization table is in range. */
function checkRequantTable(v: OpView, rq: number, outC: number, bad: Fail): void {
  for (let c = 0; c < outC; c++) {
    const [m, mAt] = v.constI32(rq, 2 * c);
    if (!(m === 0 || m >= Q31_MIN)) bad(mAt, `rq multiplier of channel ${c} is ${m}, not 0 or in [2^30, 2^31)`);
    const [s, sAt] = v.constI32(rq, 2 * c + 1);
    if (!inRange(s, -31, 30)) bad(sAt, `rq shift of channel ${c} is ${s}, not in [-31, 30]`);
  }
}

/** Bytes per row of the device's copy of OP_RULES (OP_TABLE in src/runtime/container.ts). */
export const OP_TABLE_ROW_BYTES = 24;

/**
 * OP_RULES as the device stores them, one row per op value (row 0 unused):
 * 0 nInputs, 1 output dtype (0: as input 0), 2 optional-slot mask, 3 CONST-slot mask,
 * 4..7 slot dtypes (0: any), 8 in-place allowed, 9..11 zero, 12..23 Param per param index.
 */
export function encodeOpTable(): number[][] {
  const rows: number[][] = [];
  for (let op = 0; op < OP_COUNT; op++) {
    const row = new Array<number>(OP_TABLE_ROW_BYTES).fill(0);
    const rule = OP_RULES[op as Op];
    if (rule) {
      row[0] = rule.inputs.length;
      row[1] = rule.output;
      rule.inputs.forEach((s, i) => {
        if (s.optional) row[2] |= 1 << i;
        if (s.constOnly) row[3] |= 1 << i;
        row[4 + i] = s.dtype;
      });
      row[8] = rule.inPlace ? 1 : 0;
      rule.params.forEach((p, i) => (row[12 + i] = p));
    }
    rows.push(row);
  }
  return rows;
}
