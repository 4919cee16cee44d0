// Device reader of the Sparrow container (docs/format.md): validates a file in place and
// then gives the executor raw access to its records. The checks and their order mirror
// the host reader (src/formats/container.ts) exactly: for the same bytes both report the
// same Status and the same byte offset.
//
// Safety: every load is preceded by a check that keeps it inside [base, base + len); sizes
// are summed in u64 so no u32 wraps; every loop is bounded by a count already checked
// against a section length. Nothing allocates; the only scratch is the caller's lifetime
// table.

import { Category, DType, Op, Section, Status, Storage } from '../formats/schema';
import * as schema from '../formats/schema';
import { crc32Update, crc32Zeros } from './crc32';
import { sparseWeightsFault } from './sparse_weights';

// The schema's sizes as u32, so comparisons with u32 fields need no casts.
const HEADER_BYTES: u32 = schema.HEADER_BYTES;
const SECTION_ENTRY_BYTES: u32 = schema.SECTION_ENTRY_BYTES;
const TENSOR_RECORD_BYTES: u32 = schema.TENSOR_RECORD_BYTES;
const OP_RECORD_BYTES: u32 = schema.OP_RECORD_BYTES;
const OP_MAX_INPUTS: u32 = schema.OP_MAX_INPUTS;
const OP_PARAM_COUNT: u32 = schema.OP_PARAM_COUNT;
const MAX_RANK: u32 = schema.MAX_RANK;
const ALIGN: u32 = schema.ALIGN;
const NO_TENSOR: u32 = schema.NO_TENSOR;
const MAGIC: u32 = schema.MAGIC;
const VERSION_MAJOR: u32 = schema.VERSION_MAJOR;
const SECTION_COUNT: u32 = schema.SECTION_COUNT;
const DTYPE_COUNT: u32 = schema.DTYPE_COUNT;
const CATEGORY_COUNT: u32 = schema.CATEGORY_COUNT;
const OP_COUNT: u32 = schema.OP_COUNT;

const MAX_SECTIONS: u32 = 16;
const MAX_TENSORS: u32 = 65534;
const MAX_OPS: u32 = 65534;
const MAX_GRAPH_IO: u32 = 16;
const PLAN_HEADER_BYTES: u32 = 16;
const MAX_TENSOR_BYTES: u64 = 0x7fffffff;
const Q31_MIN: i32 = 0x40000000;
/** "No step" in the lifetime table. */
export const NO_STEP: u32 = 0xffff;
/** Bytes per tensor in the lifetime table: u16 first step, u16 last step. */
export const LIFETIME_BYTES: u32 = 4;

// Param kinds and the op table: a copy of OP_RULES in src/formats/container_op_rules.ts
// (test/container.test.ts checks that the two agree byte for byte).
const P_UNUSED: u8 = 0, P_STRIDE: u8 = 1, P_PAD: u8 = 2, P_ACT_MIN: u8 = 3, P_ACT_MAX: u8 = 4, P_FILTER: u8 = 5;
const P_LEFT_SHIFT: u8 = 6, P_MULTIPLIER: u8 = 7, P_SHIFT: u8 = 8, P_SOFTMAX_MULTIPLIER: u8 = 9, P_SOFTMAX_SHIFT: u8 = 10, P_DIFF_MIN: u8 = 11;
const P_POSITIVE_F32: u8 = 12, P_UPDATE_FLAGS: u8 = 13, P_MOMENTUM: u8 = 14;
const ROW: u32 = 24;
// Row: 0 nInputs, 1 output dtype (0: as input 0), 2 optional-slot mask, 3 CONST-slot mask,
// 4..7 slot dtypes (0: any), 8 in-place slot mask (the output may take that input's buffer), 9 no output (updates in place),
// 10 updated-slot mask (ARENA TRAINABLE), 11 zero, 12..23 param kinds.
const OP_TABLE = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // (none)
  4, 1, 4, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 0, 0, 0, 0, 0, 0, // CONV2D
  4, 1, 4, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 0, 0, 0, 0, 0, 0, // DEPTHWISE_CONV2D
  4, 1, 4, 8, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, // CONV1X1
  4, 1, 4, 8, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, // FULLY_CONNECTED
  2, 1, 0, 0, 1, 1, 0, 0, 3, 0, 0, 0, 6, 7, 8, 7, 8, 7, 8, 3, 4, 0, 0, 0, // ADD
  1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 5, 1, 1, 2, 2, 3, 4, 0, 0, 0, 0, // AVG_POOL
  1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 5, 1, 1, 2, 2, 3, 4, 0, 0, 0, 0, // MAX_POOL
  1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 7, 8, 0, 0, // GLOBAL_AVG_POOL
  1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // RESHAPE
  1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, // SOFTMAX
  1, 1, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // QUANTIZE
  1, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // DEQUANTIZE
  4, 1, 4, 10, 1, 4, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, // SPARSE_CONV1X1
  4, 1, 4, 10, 1, 4, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, // SPARSE_FULLY_CONNECTED
  1, 4, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // RELU_MASK
  2, 0, 0, 0, 3, 4, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // APPLY_MASK
  2, 3, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // SOFTMAX_CE_LOSS
  2, 3, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // SOFTMAX_CE_GRAD
  3, 3, 4, 0, 3, 1, 3, 0, 4, 0, 0, 0, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, // CONV2D_BACKWARD_INPUT
  3, 3, 4, 0, 3, 1, 3, 0, 4, 0, 0, 0, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, // DEPTHWISE_CONV2D_BACKWARD_INPUT
  3, 3, 4, 0, 3, 1, 3, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // FULLY_CONNECTED_BACKWARD_INPUT
  2, 3, 2, 0, 3, 3, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // GLOBAL_AVG_POOL_BACKWARD
  4, 0, 0, 8, 1, 3, 1, 2, 0, 1, 4, 0, 1, 1, 2, 2, 12, 13, 14, 0, 0, 0, 0, 0, // CONV2D_UPDATE
  4, 0, 0, 8, 1, 3, 1, 2, 0, 1, 4, 0, 1, 1, 2, 2, 12, 13, 14, 0, 0, 0, 0, 0, // DEPTHWISE_CONV2D_UPDATE
  4, 0, 0, 8, 1, 3, 1, 2, 0, 1, 4, 0, 0, 0, 0, 0, 12, 13, 14, 0, 0, 0, 0, 0, // FULLY_CONNECTED_UPDATE
  4, 0, 0, 12, 3, 2, 2, 3, 0, 1, 2, 0, 12, 12, 13, 14, 0, 0, 0, 0, 0, 0, 0, 0, // BIAS_UPDATE
  2, 3, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MSE_LOSS
  2, 3, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MSE_GRAD
  2, 3, 2, 0, 3, 3, 0, 0, 2, 0, 0, 0, 5, 5, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, // AVG_POOL_BACKWARD
  3, 3, 4, 0, 3, 1, 3, 0, 4, 0, 0, 0, 5, 5, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, // MAX_POOL_BACKWARD
  2, 3, 2, 0, 3, 3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // GRADIENT_ADD
  4, 1, 4, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 5, 3, 4, 0, 0, // EXPAND_DEPTHWISE
  3, 1, 0, 5, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // MERGE_ROWS
]);
/** UPDATE_FLAGS bit 3 (compact rows): CONV2D_UPDATE and FULLY_CONNECTED_UPDATE only. */
const UPDATE_COMPACT_ROWS: i32 = 8;

// ---------------------------------------------------------------------------------------
// State of the last validated container. Valid only after validate() returned OK.

let base: usize = 0;
let fileLen: u32 = 0;
/** File offsets and lengths of the sections, indexed by Section kind (0: absent). */
const SECTION_OFFSET = memory.data(SECTION_COUNT * 4, 4);
const SECTION_LENGTH = memory.data(SECTION_COUNT * 4, 4);
const SECTION_ENTRY = memory.data(SECTION_COUNT * 4, 4);
let tensorCount: u32 = 0;
let opCount: u32 = 0;
let planArenaBytes: u32 = 0;
let inputCount: u32 = 0;
let outputCount: u32 = 0;
let lifetimes: usize = 0;
/** Byte offset of the first broken rule, and the op whose record holds it (-1: none). */
let detail: i32 = -1;
let failedOp: i32 = -1;

function fail(status: Status, at: u32): Status {
  detail = <i32>at;
  return status;
}

// @ts-ignore: decorator
@inline function u8At(o: u32): u32 { return <u32>load<u8>(base + o); }
// @ts-ignore: decorator
@inline function u16At(o: u32): u32 { return <u32>load<u16>(base + o); }
// @ts-ignore: decorator
@inline function u32At(o: u32): u32 { return load<u32>(base + o); }
// @ts-ignore: decorator
@inline function i32At(o: u32): i32 { return load<i32>(base + o); }
// @ts-ignore: decorator
@inline function f32At(o: u32): f32 { return load<f32>(base + o); }

function sectionOffset(kind: u32): u32 { return load<u32>(SECTION_OFFSET + (kind << 2)); }
function sectionLength(kind: u32): u32 { return load<u32>(SECTION_LENGTH + (kind << 2)); }
function sectionEntry(kind: u32): u32 { return load<u32>(SECTION_ENTRY + (kind << 2)); }
function tensorAt(t: u32): u32 { return sectionOffset(Section.TENSORS) + t * TENSOR_RECORD_BYTES; }
function opAt(k: u32): u32 { return sectionOffset(Section.OPS) + k * OP_RECORD_BYTES; }
function planAt(): u32 { return sectionOffset(Section.PLAN); }
function rowAt(op: u32): usize { return OP_TABLE + op * ROW; }

function firstStep(t: u32): u32 { return <u32>load<u16>(lifetimes + t * LIFETIME_BYTES); }
function lastStep(t: u32): u32 { return <u32>load<u16>(lifetimes + t * LIFETIME_BYTES + 2); }
function setFirst(t: u32, k: u32): void { store<u16>(lifetimes + t * LIFETIME_BYTES, <u16>k); }
function setLast(t: u32, k: u32): void { store<u16>(lifetimes + t * LIFETIME_BYTES + 2, <u16>k); }

function dtypeSize(dtype: u32): u32 { return dtype == DType.INT8 || dtype == DType.UINT8 ? 1 : 4; }
function isArena(t: u32): bool { return u8At(tensorAt(t) + 2) == Storage.ARENA; }

// ---------------------------------------------------------------------------------------
// Validation

/**
 * Validates the `len` bytes at `ptr`. `scratch` must point at LIFETIME_BYTES x (len / 40)
 * writable bytes (an upper bound of 4 B per tensor); they become the lifetime table the
 * executor uses, so they must outlive the run. Returns OK or the first broken rule, whose
 * byte offset is then `containerErrorDetail()`.
 */
export function validateContainer(ptr: usize, len: u32, scratch: usize): Status {
  base = ptr;
  fileLen = len;
  lifetimes = scratch;
  detail = -1;
  failedOp = -1;
  tensorCount = 0;
  opCount = 0;
  let s = checkHeader();
  if (s == Status.OK) s = checkSections();
  if (s == Status.OK) s = checkPlanHeader();
  if (s == Status.OK) s = checkTensors();
  if (s == Status.OK) s = checkPlanIndices();
  if (s == Status.OK) s = checkOps();
  if (s == Status.OK) s = checkLifetimes();
  if (s != Status.OK) tensorCount = opCount = 0;
  return s;
}

export function containerErrorDetail(): i32 { return detail; }
export function containerErrorOp(): i32 { return failedOp; }

function checkHeader(): Status {
  if (fileLen < HEADER_BYTES) return fail(Status.TRUNCATED, 0);
  if (u32At(0) != MAGIC) return fail(Status.BAD_MAGIC, 0);
  if (u16At(4) != VERSION_MAJOR) return fail(Status.BAD_VERSION, 4);
  if (u32At(8) != fileLen) return fail(Status.TRUNCATED, 8);
  let crc = crc32Update(0xffffffff, base, 16);
  crc = crc32Zeros(crc, 4);
  crc = ~crc32Update(crc, base + 20, fileLen - 20);
  if (u32At(16) != crc) return fail(Status.BAD_CHECKSUM, 16);
  for (let o: u32 = 20; o < HEADER_BYTES; o += 4) if (u32At(o) != 0) return fail(Status.BAD_VERSION, o);
  const n = u32At(12);
  if (n < 1 || n > MAX_SECTIONS) return fail(Status.BAD_SECTION, 12);
  if (HEADER_BYTES + n * SECTION_ENTRY_BYTES > fileLen) return fail(Status.TRUNCATED, 12);
  return Status.OK;
}

function checkSections(): Status {
  const n = u32At(12);
  const tableEnd = HEADER_BYTES + n * SECTION_ENTRY_BYTES;
  memory.fill(SECTION_OFFSET, 0, SECTION_COUNT * 4);
  memory.fill(SECTION_LENGTH, 0, SECTION_COUNT * 4);
  memory.fill(SECTION_ENTRY, 0, SECTION_COUNT * 4);
  for (let i: u32 = 0; i < n; i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    const kind = u32At(e), offset = u32At(e + 4), length = u32At(e + 8);
    if (kind < 1 || kind >= SECTION_COUNT) return fail(Status.BAD_SECTION, e);
    if (sectionEntry(kind) != 0) return fail(Status.BAD_SECTION, e);
    if (offset % ALIGN != 0 || offset < tableEnd || offset > fileLen) return fail(Status.BAD_SECTION, e + 4);
    if (length > fileLen - offset) return fail(Status.BAD_SECTION, e + 8);
    for (let other: u32 = 1; other < SECTION_COUNT; other++) {
      if (sectionEntry(other) == 0) continue;
      const o2 = sectionOffset(other), l2 = sectionLength(other);
      // both fit in the file, so these sums stay below 2^33 in u64
      if (length > 0 && l2 > 0 && <u64>offset < <u64>o2 + l2 && <u64>o2 < <u64>offset + length) return fail(Status.BAD_SECTION, e + 4);
    }
    store<u32>(SECTION_OFFSET + (kind << 2), offset);
    store<u32>(SECTION_LENGTH + (kind << 2), length);
    store<u32>(SECTION_ENTRY + (kind << 2), e);
  }
  if (sectionEntry(Section.TENSORS) == 0 || sectionEntry(Section.OPS) == 0 || sectionEntry(Section.DATA) == 0 || sectionEntry(Section.PLAN) == 0) {
    return fail(Status.BAD_SECTION, 12);
  }
  const tl = sectionLength(Section.TENSORS);
  if (tl == 0 || tl % TENSOR_RECORD_BYTES != 0 || tl / TENSOR_RECORD_BYTES > MAX_TENSORS) return fail(Status.BAD_SECTION, sectionEntry(Section.TENSORS) + 8);
  const ol = sectionLength(Section.OPS);
  if (ol == 0 || ol % OP_RECORD_BYTES != 0 || ol / OP_RECORD_BYTES > MAX_OPS) return fail(Status.BAD_SECTION, sectionEntry(Section.OPS) + 8);
  if (sectionLength(Section.PLAN) < PLAN_HEADER_BYTES) return fail(Status.BAD_SECTION, sectionEntry(Section.PLAN) + 8);
  return Status.OK;
}

function checkPlanHeader(): Status {
  const at = planAt();
  planArenaBytes = u32At(at);
  if (planArenaBytes % ALIGN != 0) return fail(Status.BAD_PLAN, at);
  const ni = u32At(at + 4), no = u32At(at + 8);
  if (ni < 1 || ni > MAX_GRAPH_IO) return fail(Status.BAD_PLAN, at + 4);
  if (no < 1 || no > MAX_GRAPH_IO) return fail(Status.BAD_PLAN, at + 8);
  if (u32At(at + 12) != 0) return fail(Status.BAD_PLAN, at + 12);
  if (sectionLength(Section.PLAN) != PLAN_HEADER_BYTES + 2 * (ni + no)) return fail(Status.BAD_SECTION, sectionEntry(Section.PLAN) + 8);
  inputCount = ni;
  outputCount = no;
  return Status.OK;
}

function checkTensors(): Status {
  const count = sectionLength(Section.TENSORS) / TENSOR_RECORD_BYTES;
  const dataLength = sectionLength(Section.DATA);
  for (let t: u32 = 0; t < count; t++) {
    const r = tensorAt(t);
    const dtype = u8At(r), rank = u8At(r + 1), storage = u8At(r + 2), category = u8At(r + 3);
    if (dtype < 1 || dtype >= DTYPE_COUNT) return fail(Status.BAD_TENSOR, r);
    if (rank < 1 || rank > MAX_RANK) return fail(Status.BAD_TENSOR, r + 1);
    if (storage != Storage.CONST && storage != Storage.ARENA) return fail(Status.BAD_TENSOR, r + 2);
    const categoryOk = storage == Storage.CONST ? category == Category.NONE : category >= 1 && category < CATEGORY_COUNT;
    if (!categoryOk) return fail(Status.BAD_TENSOR, r + 3);
    let elements: u64 = 1;
    for (let d: u32 = 0; d < MAX_RANK; d++) {
      const dim = u32At(r + 4 + 4 * d);
      if (d < rank ? dim < 1 : dim != 1) return fail(Status.BAD_TENSOR, r + 4 + 4 * d);
      elements = min<u64>(elements * dim, <u64>1 << 31); // < 2^63 before the min: never wraps
    }
    const bytes = elements * dtypeSize(dtype);
    if (bytes > MAX_TENSOR_BYTES || <u64>u32At(r + 24) != bytes) return fail(Status.BAD_TENSOR, r + 24);
    const offset = u32At(r + 20);
    if (offset % ALIGN != 0) return fail(Status.BAD_TENSOR, r + 20);
    const limit = storage == Storage.CONST ? dataLength : planArenaBytes;
    if (<u64>offset + bytes > <u64>limit) return fail(Status.BAD_TENSOR, r + 20);
    const scale = f32At(r + 28);
    if (!(scale == 0 || (isFinite<f32>(scale) && scale > 0))) return fail(Status.BAD_TENSOR, r + 28);
    const zp = i32At(r + 32);
    const zlo: i32 = dtype == DType.INT8 ? -128 : 0;
    const zhi: i32 = dtype == DType.INT8 ? 127 : dtype == DType.UINT8 ? 255 : 0;
    if (zp < zlo || zp > zhi) return fail(Status.BAD_TENSOR, r + 32);
    const cs = u16At(r + 36);
    if (cs != NO_TENSOR) {
      if (cs >= count) return fail(Status.BAD_TENSOR, r + 36);
      const s = tensorAt(cs);
      if (u8At(s) != DType.FLOAT32 || u8At(s + 2) != Storage.CONST) return fail(Status.BAD_TENSOR, r + 36);
    }
    const init = u16At(r + 38);
    if (init != 0) {
      const src = init - 1;
      if (storage != Storage.ARENA || category != Category.TRAINABLE) return fail(Status.BAD_TENSOR, r + 38);
      if (src >= count) return fail(Status.BAD_TENSOR, r + 38);
      const s = tensorAt(src);
      if (u8At(s + 2) != Storage.CONST || u8At(s) != dtype || <u64>u32At(s + 24) != bytes) return fail(Status.BAD_TENSOR, r + 38);
    }
  }
  tensorCount = count;
  return Status.OK;
}

function planIndexAt(i: u32): u32 { return planAt() + PLAN_HEADER_BYTES + 2 * i; }
function isGraphInput(t: u32): bool {
  for (let i: u32 = 0; i < inputCount; i++) if (u16At(planIndexAt(i)) == t) return true;
  return false;
}
function isGraphOutput(t: u32): bool {
  for (let i: u32 = 0; i < outputCount; i++) if (u16At(planIndexAt(inputCount + i)) == t) return true;
  return false;
}

function checkPlanIndices(): Status {
  memory.fill(lifetimes, 0xff, <usize>tensorCount * LIFETIME_BYTES);
  for (let i: u32 = 0; i < inputCount + outputCount; i++) {
    const o = planIndexAt(i);
    const t = u16At(o);
    if (t >= tensorCount) return fail(Status.BAD_PLAN, o);
    const r = tensorAt(t);
    if (u8At(r + 2) != Storage.ARENA || u8At(r + 3) == Category.SCRATCH) return fail(Status.BAD_PLAN, o);
    const listStart: u32 = i < inputCount ? 0 : inputCount;
    for (let j = listStart; j < i; j++) if (u16At(planIndexAt(j)) == t) return fail(Status.BAD_PLAN, o);
    if (i < inputCount) {
      setFirst(t, 0);
      setLast(t, 0);
    }
  }
  // trainable tensors initialised at load and optimizer state are live from the first step to the last
  for (let t: u32 = 0; t < tensorCount; t++) {
    if (tensorPersistent(t)) {
      setFirst(t, 0);
      setLast(t, 0);
    }
  }
  return Status.OK;
}

function checkOps(): Status {
  const count = sectionLength(Section.OPS) / OP_RECORD_BYTES;
  for (let k: u32 = 0; k < count; k++) {
    const s = checkOp(k);
    if (s != Status.OK) {
      failedOp = <i32>k;
      return s;
    }
  }
  opCount = count;
  return Status.OK;
}

function checkOp(k: u32): Status {
  const o = opAt(k);
  const code = u8At(o);
  if (code < 1 || code >= OP_COUNT) return fail(Status.BAD_OP, o);
  const row = rowAt(code);
  const nInputs = <u32>load<u8>(row);
  if (u8At(o + 1) != nInputs) return fail(Status.BAD_OP, o + 1);
  const noOutput = load<u8>(row + 9) != 0;
  if (u8At(o + 2) != (noOutput ? 0 : 1)) return fail(Status.BAD_OP, o + 2);
  if (u8At(o + 3) != 0) return fail(Status.BAD_OP, o + 3);
  for (let s: u32 = 0; s < OP_MAX_INPUTS; s++) {
    const at = o + 4 + 2 * s;
    const t = u16At(at);
    const optional = (<u32>load<u8>(row + 2) >> s) & 1;
    if (s >= nInputs || (t == NO_TENSOR && optional)) {
      if (t != NO_TENSOR) return fail(Status.BAD_OP, at);
      continue;
    }
    if (t >= tensorCount) return fail(Status.BAD_OP, at);
    const r = tensorAt(t);
    const want = <u32>load<u8>(row + 4 + s);
    if (want != 0 && u8At(r) != want) return fail(Status.BAD_OP, at);
    const storage = u8At(r + 2);
    if ((<u32>load<u8>(row + 3) >> s) & 1 && storage != Storage.CONST) return fail(Status.BAD_OP, at);
    if (storage == Storage.ARENA && firstStep(t) == NO_STEP) return fail(Status.BAD_OP, at);
    if ((<u32>load<u8>(row + 10) >> s) & 1 && (storage != Storage.ARENA || u8At(r + 3) != Category.TRAINABLE)) return fail(Status.BAD_OP, at);
  }
  const oa = o + 12;
  const out = u16At(oa);
  if (noOutput) {
    if (out != NO_TENSOR) return fail(Status.BAD_OP, oa);
  } else {
    if (out >= tensorCount) return fail(Status.BAD_OP, oa);
    const ro = tensorAt(out);
    if (u8At(ro + 2) != Storage.ARENA || u8At(ro + 3) == Category.SCRATCH) return fail(Status.BAD_OP, oa);
    if (firstStep(out) != NO_STEP) return fail(Status.BAD_OP, oa);
    let outDtype = <u32>load<u8>(row + 1);
    if (outDtype == 0) outDtype = u8At(tensorAt(u16At(o + 4)));
    if (u8At(ro) != outDtype) return fail(Status.BAD_OP, oa);
  }
  const sa = o + 14;
  const scratch = u16At(sa);
  if (scratch != NO_TENSOR) {
    if (scratch >= tensorCount) return fail(Status.BAD_OP, sa);
    const rs = tensorAt(scratch);
    const state = load<u8>(row + 10) != 0 && u8At(rs + 3) == Category.OPTIMIZER && (u8At(rs) == DType.FLOAT32 || u8At(rs) == DType.INT8);
    if (u8At(rs + 2) != Storage.ARENA || (u8At(rs + 3) != Category.SCRATCH && !state)) return fail(Status.BAD_OP, sa);
  }
  let s = checkOpParams(o, row);
  if (s == Status.OK) s = checkOpShapes(code, o);
  if (s != Status.OK) return s;
  if (!noOutput) {
    setFirst(out, k);
    setLast(out, k);
  }
  for (let i: u32 = 0; i < nInputs; i++) {
    const t = u16At(o + 4 + 2 * i);
    if (t != NO_TENSOR && isArena(t)) setLast(t, k);
  }
  if (scratch != NO_TENSOR) {
    if (firstStep(scratch) == NO_STEP) setFirst(scratch, k);
    setLast(scratch, k);
  }
  return Status.OK;
}

function paramOk(kind: u32, p: i32, previous: i32): bool {
  switch (kind) {
    case P_UNUSED: return p == 0;
    case P_STRIDE: return p >= 1 && p <= 255;
    case P_PAD: return p >= 0;
    case P_ACT_MIN: return p >= -128 && p <= 127;
    case P_ACT_MAX: return p >= -128 && p <= 127 && p >= previous;
    case P_FILTER: return p >= 1 && p <= 255;
    case P_LEFT_SHIFT: return p >= 0 && p <= 23;
    case P_MULTIPLIER: return p == 0 || p >= Q31_MIN;
    case P_SHIFT: return p >= -31 && p <= 30;
    case P_SOFTMAX_MULTIPLIER: return p >= Q31_MIN;
    case P_SOFTMAX_SHIFT: return p >= 0 && p <= 31;
    case P_DIFF_MIN: return p <= 0;
    case P_POSITIVE_F32: {
      const f = reinterpret<f32>(p);
      return isFinite<f32>(f) && f > 0;
    }
    case P_UPDATE_FLAGS: return p >= 0 && p <= 15;
    case P_MOMENTUM: {
      const f = reinterpret<f32>(p);
      return f >= 0 && f < 1;
    }
  }
  return false;
}

function checkOpParams(o: u32, row: usize): Status {
  let previous: i32 = 0;
  for (let i: u32 = 0; i < OP_PARAM_COUNT; i++) {
    const at = o + 16 + 4 * i;
    const p = i32At(at);
    if (!paramOk(<u32>load<u8>(row + 12 + i), p, previous)) return fail(Status.BAD_OP, at);
    previous = p;
  }
  return Status.OK;
}

// ---- shapes (the host's checkOpShapes, same order) -----------------------------------

function dim(t: u32, d: u32): u32 { return u32At(tensorAt(t) + 4 + 4 * d); }
function rankOf(t: u32): u32 { return u8At(tensorAt(t) + 1); }
function scaleOf(t: u32): f32 { return f32At(tensorAt(t) + 28); }
function zeroPointOf(t: u32): i32 { return i32At(tensorAt(t) + 32); }
/** Element count; dims are validated, so it is below 2^31. */
function elementsOf(t: u32): u64 { return <u64>dim(t, 0) * dim(t, 1) * dim(t, 2) * dim(t, 3); }
function sameShape(a: u32, b: u32): bool {
  return rankOf(a) == rankOf(b) && dim(a, 0) == dim(b, 0) && dim(a, 1) == dim(b, 1) && dim(a, 2) == dim(b, 2) && dim(a, 3) == dim(b, 3);
}
function sameQuant(a: u32, b: u32): bool { return scaleOf(a) == scaleOf(b) && zeroPointOf(a) == zeroPointOf(b); }

/** TFLite VALID or SAME output size along one axis, with the leading pad SAME implies. */
function spatialOk(inSize: u32, k: u32, stride: i32, pad: i32, out: u32): bool {
  const i = <i64>inSize, kk = <i64>k, s = <i64>stride, p = <i64>pad, o = <i64>out;
  const valid = p == 0 && i >= kk && o == (i - kk) / s + 1;
  const total = (o - 1) * s + kk - i;
  const same = o == (i + s - 1) / s && p == (total > 0 ? total : 0) / 2;
  return valid || same;
}

/** Every (multiplier, shift) of a requantization table is in range. */
function checkRequantTable(rq: u32, outC: u32): Status {
  // rq lies inside DATA (its record was checked), so these loads stay in the file
  const table = sectionOffset(Section.DATA) + u32At(tensorAt(rq) + 20);
  for (let c: u32 = 0; c < outC; c++) {
    const m = i32At(table + 8 * c);
    if (m != 0 && m < Q31_MIN) return fail(Status.BAD_OP, table + 8 * c);
    const s = i32At(table + 8 * c + 4);
    if (s < -31 || s > 30) return fail(Status.BAD_OP, table + 8 * c + 4);
  }
  return Status.OK;
}

function checkOpShapes(code: u32, o: u32): Status {
  const x = u16At(o + 4), w = u16At(o + 6), b = u16At(o + 8), rq = u16At(o + 10);
  const out = u16At(o + 12);
  const outAt = o + 12;
  const param = (o + 16);
  if (code <= <u32>Op.FULLY_CONNECTED) {
    const fc = code == Op.FULLY_CONNECTED, dw = code == Op.DEPTHWISE_CONV2D, pw = code == Op.CONV1X1;
    const outC = dw ? dim(w, 3) : dim(w, 0);
    if (!fc && rankOf(x) != 4) return fail(Status.BAD_OP, o + 4);
    let wOk: bool;
    if (fc) wOk = rankOf(w) == 2 && <u64>dim(w, 1) * dim(x, 0) == elementsOf(x);
    else if (dw) wOk = rankOf(w) == 4 && dim(w, 0) == 1 && dim(w, 3) == dim(x, 3);
    else if (pw) wOk = rankOf(w) == 4 && dim(w, 1) == 1 && dim(w, 2) == 1 && dim(w, 3) == dim(x, 3);
    else wOk = rankOf(w) == 4 && dim(w, 3) == dim(x, 3);
    if (!wOk) return fail(Status.BAD_OP, o + 6);
    if (b != NO_TENSOR && (rankOf(b) != 1 || dim(b, 0) != outC)) return fail(Status.BAD_OP, o + 8);
    if (rankOf(rq) != 2 || dim(rq, 0) != outC || dim(rq, 1) != 2) return fail(Status.BAD_OP, o + 10);
    if (fc) {
      if (rankOf(out) != 2 || dim(out, 0) != dim(x, 0) || dim(out, 1) != outC) return fail(Status.BAD_OP, outAt);
    } else {
      const kH = pw ? 1 : dim(w, 1), kW = pw ? 1 : dim(w, 2);
      const sH = pw ? 1 : i32At(param), sW = pw ? 1 : i32At(param + 4);
      const pT = pw ? 0 : i32At(param + 8), pL = pw ? 0 : i32At(param + 12);
      if (rankOf(out) != 4 || dim(out, 0) != dim(x, 0) || dim(out, 3) != outC
        || !spatialOk(dim(x, 1), kH, sH, pT, dim(out, 1)) || !spatialOk(dim(x, 2), kW, sW, pL, dim(out, 2))) return fail(Status.BAD_OP, outAt);
    }
    return checkRequantTable(rq, outC);
  }
  if (code == Op.SPARSE_CONV1X1 || code == Op.SPARSE_FULLY_CONNECTED) {
    const fc = code == Op.SPARSE_FULLY_CONNECTED;
    if (!fc && rankOf(x) != 4) return fail(Status.BAD_OP, o + 4);
    const outC = fc ? dim(out, 1) : dim(out, 3);
    const inC = fc ? <u32>(elementsOf(x) / dim(x, 0)) : dim(x, 3);
    const outOk = fc
      ? rankOf(out) == 2 && dim(out, 0) == dim(x, 0)
      : rankOf(out) == 4 && dim(out, 0) == dim(x, 0) && dim(out, 1) == dim(x, 1) && dim(out, 2) == dim(x, 2);
    if (!outOk) return fail(Status.BAD_OP, outAt);
    if (rankOf(w) != 1) return fail(Status.BAD_OP, o + 6);
    const blob = sectionOffset(Section.DATA) + u32At(tensorAt(w) + 20);
    const fault = sparseWeightsFault(base + blob, u32At(tensorAt(w) + 24), outC, inC);
    if (fault >= 0) return fail(Status.BAD_OP, blob + <u32>fault);
    if (b != NO_TENSOR && (rankOf(b) != 1 || dim(b, 0) != outC)) return fail(Status.BAD_OP, o + 8);
    if (rankOf(rq) != 2 || dim(rq, 0) != outC || dim(rq, 1) != 2) return fail(Status.BAD_OP, o + 10);
    return checkRequantTable(rq, outC);
  }
  switch (code) {
    case Op.ADD: {
      if (!sameShape(w, x)) return fail(Status.BAD_OP, o + 6);
      if (!sameShape(out, x)) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.AVG_POOL: case Op.MAX_POOL: case Op.GLOBAL_AVG_POOL: {
      if (rankOf(x) != 4) return fail(Status.BAD_OP, o + 4);
      const shapeOk = code == Op.GLOBAL_AVG_POOL
        ? dim(out, 1) == 1 && dim(out, 2) == 1
        : spatialOk(dim(x, 1), <u32>i32At(param), i32At(param + 8), i32At(param + 16), dim(out, 1))
          && spatialOk(dim(x, 2), <u32>i32At(param + 4), i32At(param + 12), i32At(param + 20), dim(out, 2));
      if (rankOf(out) != 4 || dim(out, 0) != dim(x, 0) || dim(out, 3) != dim(x, 3) || !shapeOk) return fail(Status.BAD_OP, outAt);
      if (code == Op.GLOBAL_AVG_POOL && i32At(param + 32) != 0) break; // requantizing (MEAN): the output has its own scale
      if (code == Op.GLOBAL_AVG_POOL && i32At(param + 36) != 0) return fail(Status.BAD_OP, param + 36); // same scale: shift 0
      if (!sameQuant(out, x)) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.RESHAPE: {
      if (elementsOf(out) != elementsOf(x)) return fail(Status.BAD_OP, outAt);
      if (!sameQuant(out, x)) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.SOFTMAX: {
      if (!sameShape(out, x)) return fail(Status.BAD_OP, outAt);
      if (scaleOf(out) != <f32>(1.0 / 256.0) || zeroPointOf(out) != -128) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.QUANTIZE: {
      if (!sameShape(out, x)) return fail(Status.BAD_OP, outAt);
      if (!(scaleOf(out) > 0)) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.DEQUANTIZE: {
      if (!(scaleOf(x) > 0)) return fail(Status.BAD_OP, o + 4);
      if (!sameShape(out, x)) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.EXPAND_DEPTHWISE: return checkExpandDepthwise(o);
    default: return checkTrainOpShapes(code, o);
  }
  return Status.OK;
}

/** The host's checkExpandDepthwise: row buffer (scratch), concatenated constants, output, both rq tables. */
function checkExpandDepthwise(o: u32): Status {
  const x = u16At(o + 4), w = u16At(o + 6), b = u16At(o + 8), rq = u16At(o + 10), out = u16At(o + 12), ring = u16At(o + 14);
  const param = o + 16;
  const kH = <u32>i32At(param + 24), kW = <u32>i32At(param + 28); // FILTER params: 1..255
  if (rankOf(x) != 4) return fail(Status.BAD_OP, o + 4);
  if (ring == NO_TENSOR) return fail(Status.BAD_OP, o + 14);
  const minRows = min<u32>(kH, dim(x, 1));
  if (u8At(tensorAt(ring)) != DType.INT8 || rankOf(ring) != 4 || dim(ring, 0) != 1 || dim(ring, 2) != dim(x, 2)
    || dim(ring, 1) < minRows || dim(ring, 1) > dim(x, 1) || !(scaleOf(ring) > 0)) return fail(Status.BAD_OP, o + 14);
  const ce = dim(ring, 3);
  if (rankOf(w) != 1 || <u64>dim(w, 0) != <u64>ce * dim(x, 3) + <u64>kH * kW * ce) return fail(Status.BAD_OP, o + 6);
  if (b != NO_TENSOR && (rankOf(b) != 1 || <u64>dim(b, 0) != 2 * <u64>ce)) return fail(Status.BAD_OP, o + 8);
  if (rankOf(rq) != 2 || <u64>dim(rq, 0) != 2 * <u64>ce || dim(rq, 1) != 2) return fail(Status.BAD_OP, o + 10);
  if (rankOf(out) != 4 || dim(out, 0) != dim(x, 0) || dim(out, 3) != ce
    || !spatialOk(dim(x, 1), kH, i32At(param), i32At(param + 8), dim(out, 1))
    || !spatialOk(dim(x, 2), kW, i32At(param + 4), i32At(param + 12), dim(out, 2))) return fail(Status.BAD_OP, o + 12);
  return checkRequantTable(rq, 2 * ce);
}

/** Last dim of a tensor. */
function lastDim(t: u32): u32 { return dim(t, rankOf(t) - 1); }
/** A 1x1 or fully connected filter: [Co, Ci] or [Co,1,1,Ci]. */
function denseRows(w: u32): bool { return rankOf(w) == 2 || (rankOf(w) == 4 && dim(w, 1) == 1 && dim(w, 2) == 1); }
/** The filter's per-channel scales exist and hold `channels` values. */
function hasScales(w: u32, channels: u32): bool {
  const cs = u16At(tensorAt(w) + 36);
  return cs != NO_TENSOR && elementsOf(cs) == <u64>channels;
}

/** A channel list: rank 1, at most `channels` entries, strictly ascending, each below `channels`. */
function checkSelected(t: u32, channels: u32, at: u32): Status {
  const n = dim(t, 0);
  if (rankOf(t) != 1 || n > channels) return fail(Status.BAD_OP, at);
  const list = sectionOffset(Section.DATA) + u32At(tensorAt(t) + 20); // inside DATA: its record was checked
  let previous: i32 = -1;
  for (let i: u32 = 0; i < n; i++) {
    const c = i32At(list + 4 * i);
    if (c <= previous || c >= <i32>channels) return fail(Status.BAD_OP, list + 4 * i);
    previous = c;
  }
  return Status.OK;
}

/**
 * An update op's state (scratch field), one value per updated parameter: FLOAT32 momentum,
 * required when momentum (param `param`) is not 0; or, for a weight op with carry rounding
 * (UPDATE_FLAGS bit 2, the param before), INT8 carry fractions, required, with momentum 0.
 */
function stateOk(o: u32, updated: u64, param: u32): Status {
  const state = u16At(o + 14);
  const momentumAt = o + 16 + 4 * param;
  const carry = u8At(o) != Op.BIAS_UPDATE && (i32At(momentumAt - 4) & 4) != 0;
  if (carry && i32At(momentumAt) != 0) return fail(Status.BAD_OP, momentumAt);
  if (state == NO_TENSOR) return carry ? fail(Status.BAD_OP, o + 14) : i32At(momentumAt) == 0 ? Status.OK : fail(Status.BAD_OP, momentumAt);
  if (u8At(tensorAt(state)) != (carry ? DType.INT8 : DType.FLOAT32)) return fail(Status.BAD_OP, o + 14);
  return elementsOf(state) == updated ? Status.OK : fail(Status.BAD_OP, o + 14);
}

/** An `acc` slot (at file offset `at`), when used, holds a gradient of the output's shape. */
function accOk(acc: u32, out: u32, at: u32): Status {
  return acc == NO_TENSOR || sameShape(acc, out) ? Status.OK : fail(Status.BAD_OP, at);
}

/** Train-step ops (the host's checkTrainOpShapes, same order). */
function checkTrainOpShapes(code: u32, o: u32): Status {
  const a = u16At(o + 4), b = u16At(o + 6), c = u16At(o + 8), d = u16At(o + 10);
  const out = u16At(o + 12);
  const outAt = o + 12;
  const param = o + 16;
  switch (code) {
    case Op.RELU_MASK: {
      if (rankOf(out) != 1 || <u64>dim(out, 0) != (elementsOf(a) + 7) / 8) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.APPLY_MASK: {
      if (rankOf(b) != 1 || <u64>dim(b, 0) != (elementsOf(a) + 7) / 8) return fail(Status.BAD_OP, o + 6);
      if (!sameShape(out, a)) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.SOFTMAX_CE_LOSS: case Op.SOFTMAX_CE_GRAD: {
      if (rankOf(a) != 2 || dim(a, 0) != 1 || !(scaleOf(a) > 0)) return fail(Status.BAD_OP, o + 4);
      if (rankOf(b) != 1 || dim(b, 0) != 1) return fail(Status.BAD_OP, o + 6);
      const outOk = code == Op.SOFTMAX_CE_LOSS ? rankOf(out) == 1 && dim(out, 0) == 1 : sameShape(out, a);
      if (!outOk) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.CONV2D_BACKWARD_INPUT: case Op.DEPTHWISE_CONV2D_BACKWARD_INPUT: {
      const dw = code == Op.DEPTHWISE_CONV2D_BACKWARD_INPUT;
      const outC = dw ? dim(b, 3) : dim(b, 0);
      if (rankOf(a) != 4 || dim(a, 0) != 1 || dim(a, 3) != outC) return fail(Status.BAD_OP, o + 4);
      if (rankOf(b) != 4 || (dw && dim(b, 0) != 1)) return fail(Status.BAD_OP, o + 6);
      if (!hasScales(b, outC)) return fail(Status.BAD_OP, o + 6);
      if (rankOf(out) != 4 || dim(out, 0) != 1 || dim(out, 3) != dim(b, 3)
        || !spatialOk(dim(out, 1), dim(b, 1), i32At(param), i32At(param + 8), dim(a, 1))
        || !spatialOk(dim(out, 2), dim(b, 2), i32At(param + 4), i32At(param + 12), dim(a, 2))) return fail(Status.BAD_OP, outAt);
      return accOk(c, out, o + 8);
    }
    case Op.FULLY_CONNECTED_BACKWARD_INPUT: {
      if (!denseRows(b)) return fail(Status.BAD_OP, o + 6);
      const outC = dim(b, 0), inC = lastDim(b);
      if (lastDim(a) != outC) return fail(Status.BAD_OP, o + 4);
      if (!hasScales(b, outC)) return fail(Status.BAD_OP, o + 6);
      if (elementsOf(out) != (elementsOf(a) / outC) * inC) return fail(Status.BAD_OP, outAt);
      return accOk(c, out, o + 8);
    }
    case Op.GLOBAL_AVG_POOL_BACKWARD: {
      if (rankOf(out) != 4 || dim(out, 0) != 1 || elementsOf(a) != <u64>dim(out, 3)) return fail(Status.BAD_OP, outAt);
      return accOk(b, out, o + 6);
    }
    case Op.MSE_LOSS: case Op.MSE_GRAD: {
      if (!(scaleOf(a) > 0)) return fail(Status.BAD_OP, o + 4);
      if (elementsOf(b) != elementsOf(a)) return fail(Status.BAD_OP, o + 6);
      const outOk = code == Op.MSE_LOSS ? rankOf(out) == 1 && dim(out, 0) == 1 : sameShape(out, a);
      if (!outOk) return fail(Status.BAD_OP, outAt);
      break;
    }
    case Op.AVG_POOL_BACKWARD: case Op.MAX_POOL_BACKWARD: {
      const max = code == Op.MAX_POOL_BACKWARD;
      if (rankOf(a) != 4 || dim(a, 0) != 1) return fail(Status.BAD_OP, o + 4);
      if (rankOf(out) != 4 || dim(out, 0) != 1 || dim(out, 3) != dim(a, 3)
        || !spatialOk(dim(out, 1), <u32>i32At(param), i32At(param + 8), i32At(param + 16), dim(a, 1))
        || !spatialOk(dim(out, 2), <u32>i32At(param + 4), i32At(param + 12), i32At(param + 20), dim(a, 2))) return fail(Status.BAD_OP, outAt);
      if (max && (rankOf(b) != 4 || !sameShape(b, out))) return fail(Status.BAD_OP, o + 6);
      return max ? accOk(c, out, o + 8) : accOk(b, out, o + 6);
    }
    case Op.GRADIENT_ADD: {
      if (!sameShape(out, a)) return fail(Status.BAD_OP, outAt);
      return accOk(b, out, o + 6);
    }
    case Op.CONV2D_UPDATE: case Op.DEPTHWISE_CONV2D_UPDATE: case Op.FULLY_CONNECTED_UPDATE: {
      const compact = (i32At(param + 20) & UPDATE_COMPACT_ROWS) != 0;
      if (compact && code == Op.DEPTHWISE_CONV2D_UPDATE) return fail(Status.BAD_OP, param + 20);
      let outC: u32;
      if (code == Op.FULLY_CONNECTED_UPDATE) {
        if (!denseRows(c)) return fail(Status.BAD_OP, o + 8);
        outC = compact ? lastDim(b) : dim(c, 0);
        const inC = lastDim(c);
        if (elementsOf(a) % inC != 0) return fail(Status.BAD_OP, o + 4);
        if (lastDim(b) != outC || elementsOf(b) != (elementsOf(a) / inC) * outC) return fail(Status.BAD_OP, o + 6);
      } else {
        const dw = code == Op.DEPTHWISE_CONV2D_UPDATE;
        outC = dw ? dim(c, 3) : compact ? dim(b, 3) : dim(c, 0);
        if (rankOf(a) != 4 || dim(a, 0) != 1) return fail(Status.BAD_OP, o + 4);
        if (rankOf(c) != 4 || dim(c, 3) != dim(a, 3) || (dw && dim(c, 0) != 1)) return fail(Status.BAD_OP, o + 8);
        if (rankOf(b) != 4 || dim(b, 0) != 1 || dim(b, 3) != outC
          || !spatialOk(dim(a, 1), dim(c, 1), i32At(param), i32At(param + 8), dim(b, 1))
          || !spatialOk(dim(a, 2), dim(c, 2), i32At(param + 4), i32At(param + 12), dim(b, 2))) return fail(Status.BAD_OP, o + 6);
      }
      if (!hasScales(c, outC)) return fail(Status.BAD_OP, o + 8);
      const s = checkSelected(d, outC, o + 10);
      if (s != Status.OK) return s;
      if (compact && dim(c, 0) != dim(d, 0)) return fail(Status.BAD_OP, o + 8);
      const perChannel = code == Op.DEPTHWISE_CONV2D_UPDATE ? <u64>dim(c, 0) * dim(c, 1) * dim(c, 2) : <u64>dim(c, 1) * dim(c, 2) * dim(c, 3);
      return stateOk(o, <u64>dim(d, 0) * perChannel, 6);
    }
    case Op.BIAS_UPDATE: {
      if ((i32At(param + 8) & UPDATE_COMPACT_ROWS) != 0) return fail(Status.BAD_OP, param + 8);
      const channels = dim(b, 0);
      if (rankOf(b) != 1) return fail(Status.BAD_OP, o + 6);
      if (lastDim(a) != channels) return fail(Status.BAD_OP, o + 4);
      const s = checkSelected(c, channels, o + 8);
      if (s != Status.OK) return s;
      if (rankOf(d) != 1 || dim(d, 0) != channels) return fail(Status.BAD_OP, o + 10);
      return stateOk(o, <u64>dim(c, 0), 3);
    }
    case Op.MERGE_ROWS: {
      if (rankOf(a) != 2 && rankOf(a) != 4) return fail(Status.BAD_OP, o + 4);
      const s = checkSelected(c, dim(a, 0), o + 8);
      if (s != Status.OK) return s;
      if (rankOf(b) != rankOf(a) || dim(b, 0) != dim(c, 0) || dim(b, 1) != dim(a, 1) || dim(b, 2) != dim(a, 2) || dim(b, 3) != dim(a, 3)) return fail(Status.BAD_OP, o + 6);
      if (!sameShape(out, a) || u16At(tensorAt(out) + 36) != u16At(tensorAt(a) + 36)) return fail(Status.BAD_OP, outAt);
      break;
    }
  }
  return Status.OK;
}

// ---- lifetimes ------------------------------------------------------------------------

function checkLifetimes(): Status {
  for (let t: u32 = 0; t < tensorCount; t++) if (tensorPersistent(t)) setLast(t, opCount - 1);
  for (let i: u32 = 0; i < outputCount; i++) {
    const at = planIndexAt(inputCount + i);
    const t = u16At(at);
    if (firstStep(t) == NO_STEP || isGraphInput(t)) return fail(Status.BAD_PLAN, at);
    setLast(t, opCount - 1);
  }
  // O(live ARENA tensors^2); tensorCount <= 65534 bounds it
  for (let j: u32 = 0; j < tensorCount; j++) {
    if (firstStep(j) == NO_STEP || !isArena(j)) continue;
    for (let i: u32 = 0; i < j; i++) {
      if (firstStep(i) == NO_STEP || !isArena(i)) continue;
      if (conflict(i, j)) return fail(Status.BAD_PLAN, tensorAt(j) + 20);
    }
  }
  return Status.OK;
}

function conflict(i: u32, j: u32): bool {
  const oi = <u64>u32At(tensorAt(i) + 20), bi = <u64>u32At(tensorAt(i) + 24);
  const oj = <u64>u32At(tensorAt(j) + 20), bj = <u64>u32At(tensorAt(j) + 24);
  const together = firstStep(i) <= lastStep(j) && firstStep(j) <= lastStep(i);
  const overlap = oi < oj + bj && oj < oi + bi;
  return together && overlap && !inPlace(i, j) && !inPlace(j, i);
}

/** `out` is written in place over `input` by an op that allows it, and `input` dies there. */
function inPlace(input: u32, out: u32): bool {
  const k = firstStep(out);
  if (isGraphInput(out) || isGraphOutput(input)) return false;
  const o = opAt(k);
  const slots = <u32>load<u8>(rowAt(u8At(o)) + 8);
  if (u16At(o + 12) != out || lastStep(input) != k) return false;
  if (u32At(tensorAt(input) + 20) != u32At(tensorAt(out) + 20) || u32At(tensorAt(input) + 24) != u32At(tensorAt(out) + 24)) return false;
  const n = u8At(o + 1);
  for (let s: u32 = 0; s < n; s++) if ((slots >> s) & 1 && u16At(o + 4 + 2 * s) == input) return true;
  return false;
}

// ---------------------------------------------------------------------------------------
// Accessors for the executor: valid after validateContainer returned OK. Unchecked: callers
// pass indices below the counts below.

export function tensorCountOf(): u32 { return tensorCount; }
export function opCountOf(): u32 { return opCount; }
export function arenaBytesOf(): u32 { return planArenaBytes; }
export function graphInputCount(): u32 { return inputCount; }
export function graphOutputCount(): u32 { return outputCount; }
export function graphInput(i: u32): u32 { return u16At(planIndexAt(i)); }
export function graphOutput(i: u32): u32 { return u16At(planIndexAt(inputCount + i)); }

export function tensorDtype(t: u32): u32 { return u8At(tensorAt(t)); }
export function tensorIsArena(t: u32): bool { return isArena(t); }
export function tensorCategory(t: u32): u32 { return u8At(tensorAt(t) + 3); }
export function tensorRank(t: u32): u32 { return rankOf(t); }
export function tensorDim(t: u32, d: u32): i32 { return <i32>dim(t, d); }
/** Element count (below 2^31 for a validated tensor). */
export function tensorElements(t: u32): i32 { return <i32>elementsOf(t); }
export function tensorOffset(t: u32): u32 { return u32At(tensorAt(t) + 20); }
export function tensorBytes(t: u32): u32 { return u32At(tensorAt(t) + 24); }
export function tensorScale(t: u32): f32 { return scaleOf(t); }
export function tensorZeroPoint(t: u32): i32 { return zeroPointOf(t); }
/** Kept across runs: initialised at load (TRAINABLE with init) or optimizer state (ARENA OPTIMIZER, zeroed at load). */
export function tensorPersistent(t: u32): bool {
  return tensorInitIndex(t) != NO_TENSOR || (u8At(tensorAt(t) + 2) == Storage.ARENA && u8At(tensorAt(t) + 3) == Category.OPTIMIZER);
}

/** The CONST tensor a TRAINABLE tensor is initialised from at load, or NO_TENSOR. */
export function tensorInitIndex(t: u32): u32 {
  const init = u16At(tensorAt(t) + 38);
  return init == 0 ? NO_TENSOR : init - 1;
}
/** A tensor's per-channel scales (CONST FLOAT32), or NO_TENSOR. */
export function tensorChannelScales(t: u32): u32 { return u16At(tensorAt(t) + 36); }
/** Address of a CONST tensor's bytes (inside the container). */
export function constData(t: u32): usize { return base + sectionOffset(Section.DATA) + tensorOffset(t); }
/** First and last step the tensor is live (NO_STEP when never). */
export function tensorFirstStep(t: u32): u32 { return firstStep(t); }
export function tensorLastStep(t: u32): u32 { return lastStep(t); }

export function opCode(k: u32): u32 { return u8At(opAt(k)); }
export function opInput(k: u32, slot: u32): u32 { return u16At(opAt(k) + 4 + 2 * slot); }
export function opInputCount(k: u32): u32 { return u8At(opAt(k) + 1); }
export function opOutput(k: u32): u32 { return u16At(opAt(k) + 12); }
export function opScratch(k: u32): u32 { return u16At(opAt(k) + 14); }
export function opParam(k: u32, i: u32): i32 { return i32At(opAt(k) + 16 + 4 * i); }
