// Writer and reader of the Sparrow container (docs/format.md). The reader checks every rule
// of the spec in the order the spec lists them, which is also the order of the device
// reader (src/runtime/container.ts): both report the same Status and the same byte offset
// for the first broken rule. The writer encodes, then runs the reader on its own bytes, so
// it refuses exactly what the reader refuses.

import CRC32 from 'crc-32';
import { FormatError } from './errors.js';
import {
  ALIGN, CATEGORY_COUNT, Category, DType, DTYPE_COUNT, HEADER_BYTES, MAGIC, MAX_RANK, NO_TENSOR,
  OP_COUNT, OP_MAX_INPUTS, OP_PARAM_COUNT, OP_RECORD_BYTES, Op, SECTION_COUNT, SECTION_ENTRY_BYTES,
  Section, Status, Storage, TENSOR_RECORD_BYTES, VERSION_MAJOR, VERSION_MINOR,
} from './schema.js';
import type { ContainerModel, OpRecord, PlanRecord, TensorRecord } from './container_types.js';
import { OP_RULES, checkOpParams, checkOpShapes, type OpView } from './container_op_rules.js';

export const MAX_SECTIONS = 16;
export const MAX_TENSORS = 65534;
export const MAX_OPS = 65534;
export const MAX_GRAPH_IO = 16;
export const PLAN_HEADER_BYTES = 16;
/** Largest byte size of one tensor: every count then fits an i32 on the device. */
export const MAX_TENSOR_BYTES = 0x7fffffff;

/** A container rule broken: `status` is what the device returns for the same bytes. */
export class ContainerError extends FormatError {
  readonly status: Status;
  /** Only the host checks this rule (NAMES/META JSON); the device skips those sections. */
  readonly hostOnly: boolean;
  constructor(status: Status, offset: number, message: string, hostOnly = false) {
    super(`${Status[status]}: ${message}`, offset);
    this.status = status;
    this.hostOnly = hostOnly;
  }
}

export function dtypeSize(dtype: DType): number {
  return dtype === DType.INT8 || dtype === DType.UINT8 ? 1 : 4;
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

// ---------------------------------------------------------------------------------------
// Writer

/** Encodes `model`; throws ContainerError for anything the reader would refuse. */
export function writeContainer(model: ContainerModel): Uint8Array {
  const enc = new TextEncoder();
  const bodies: [Section, Uint8Array][] = [
    [Section.TENSORS, encodeTensors(model.tensors)],
    [Section.OPS, encodeOps(model.ops)],
    [Section.PLAN, encodePlan(model.plan)],
    [Section.DATA, model.data],
  ];
  if (model.names) bodies.push([Section.NAMES, enc.encode(JSON.stringify(model.names))]);
  if (model.meta) bodies.push([Section.META, enc.encode(JSON.stringify(model.meta))]);

  let cursor = align(HEADER_BYTES + bodies.length * SECTION_ENTRY_BYTES);
  const placed = bodies.map(([kind, body]) => {
    const offset = cursor;
    cursor = align(offset + body.length);
    return { kind, offset, body };
  });
  const last = placed[placed.length - 1];
  const fileLength = last.offset + last.body.length;
  const bytes = new Uint8Array(fileLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, VERSION_MAJOR, true);
  view.setUint16(6, VERSION_MINOR, true);
  view.setUint32(8, fileLength, true);
  view.setUint32(12, placed.length, true);
  placed.forEach(({ kind, offset, body }, i) => {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    view.setUint32(e, kind, true);
    view.setUint32(e + 4, offset, true);
    view.setUint32(e + 8, body.length, true);
    bytes.set(body, offset);
  });
  view.setUint32(16, containerCrc(bytes), true);
  readContainer(bytes);
  return bytes;
}

/** CRC-32 of the file with the CRC field (bytes 16..19) read as zero. */
export function containerCrc(bytes: Uint8Array): number {
  const copy = bytes.slice();
  copy.fill(0, 16, 20);
  return CRC32.buf(copy) >>> 0;
}

function encodeTensors(tensors: TensorRecord[]): Uint8Array {
  const out = new Uint8Array(tensors.length * TENSOR_RECORD_BYTES);
  const v = new DataView(out.buffer);
  tensors.forEach((t, i) => {
    const r = i * TENSOR_RECORD_BYTES;
    v.setUint8(r, t.dtype);
    v.setUint8(r + 1, t.shape.length);
    v.setUint8(r + 2, t.storage);
    v.setUint8(r + 3, t.category);
    for (let d = 0; d < MAX_RANK; d++) v.setUint32(r + 4 + 4 * d, d < t.shape.length ? t.shape[d] : 1, true);
    v.setUint32(r + 20, t.offset, true);
    v.setUint32(r + 24, t.bytes, true);
    v.setFloat32(r + 28, t.scale, true);
    v.setInt32(r + 32, t.zeroPoint, true);
    v.setUint16(r + 36, t.channelScales, true);
    v.setUint16(r + 38, t.init === undefined ? 0 : t.init + 1, true);
  });
  return out;
}

function encodeOps(ops: OpRecord[]): Uint8Array {
  const out = new Uint8Array(ops.length * OP_RECORD_BYTES);
  const v = new DataView(out.buffer);
  ops.forEach((op, i) => {
    const r = i * OP_RECORD_BYTES;
    if (op.inputs.length > OP_MAX_INPUTS) throw new ContainerError(Status.BAD_OP, r + 1, `op ${i} has ${op.inputs.length} inputs, at most ${OP_MAX_INPUTS}`);
    if (op.params.length > OP_PARAM_COUNT) throw new ContainerError(Status.BAD_OP, r + 16, `op ${i} has ${op.params.length} params, at most ${OP_PARAM_COUNT}`);
    v.setUint8(r, op.op);
    v.setUint8(r + 1, op.inputs.length);
    v.setUint8(r + 2, OP_RULES[op.op]?.noOutput ? 0 : 1);
    for (let s = 0; s < OP_MAX_INPUTS; s++) v.setUint16(r + 4 + 2 * s, s < op.inputs.length ? op.inputs[s] : NO_TENSOR, true);
    v.setUint16(r + 12, op.output, true);
    v.setUint16(r + 14, op.scratch, true);
    op.params.forEach((p, k) => v.setInt32(r + 16 + 4 * k, p, true));
  });
  return out;
}

function encodePlan(plan: PlanRecord): Uint8Array {
  const ids = [...plan.inputs, ...plan.outputs];
  const out = new Uint8Array(PLAN_HEADER_BYTES + 2 * ids.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, plan.arenaBytes, true);
  v.setUint32(4, plan.inputs.length, true);
  v.setUint32(8, plan.outputs.length, true);
  ids.forEach((t, i) => v.setUint16(PLAN_HEADER_BYTES + 2 * i, t, true));
  return out;
}

// ---------------------------------------------------------------------------------------
// Reader

interface SectionSpan { offset: number; length: number; entry: number }

/** Parses and validates a container; throws ContainerError at the first broken rule. */
export function readContainer(bytes: Uint8Array): ContainerModel {
  const c = new Checker(bytes);
  c.checkHeader();
  c.checkSections();
  c.checkPlanHeader();
  c.checkTensors();
  c.checkPlanIndices();
  c.checkOps();
  c.checkLifetimes();
  return c.decode();
}

const fail = (status: Status, offset: number, message: string): never => {
  throw new ContainerError(status, offset, message);
};

/** The validation state; each check reads only fields that earlier checks accepted. */
class Checker {
  private readonly v: DataView;
  private readonly sections = new Map<Section, SectionSpan>();
  private tensorCount = 0;
  private opCount = 0;
  private arenaBytes = 0;
  private planInputs: number[] = [];
  private planOutputs: number[] = [];
  /** Per tensor: first and last step it is live (-1: never). */
  private first: Int32Array = new Int32Array(0);
  private last: Int32Array = new Int32Array(0);

  constructor(private readonly bytes: Uint8Array) {
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private u8 = (o: number): number => this.v.getUint8(o);
  private u16 = (o: number): number => this.v.getUint16(o, true);
  private u32 = (o: number): number => this.v.getUint32(o, true);
  private i32 = (o: number): number => this.v.getInt32(o, true);
  private f32 = (o: number): number => this.v.getFloat32(o, true);
  private sec = (s: Section): SectionSpan => this.sections.get(s)!;
  tensorAt = (t: number): number => this.sec(Section.TENSORS).offset + t * TENSOR_RECORD_BYTES;
  private opAt = (k: number): number => this.sec(Section.OPS).offset + k * OP_RECORD_BYTES;

  checkHeader(): void {
    const len = this.bytes.length;
    if (len < HEADER_BYTES) fail(Status.TRUNCATED, 0, `file is ${len} B, the header alone is ${HEADER_BYTES} B`);
    if (this.u32(0) !== MAGIC) fail(Status.BAD_MAGIC, 0, `magic is 0x${this.u32(0).toString(16)}, expected 0x${MAGIC.toString(16)} ("SPRW")`);
    if (this.u16(4) !== VERSION_MAJOR) fail(Status.BAD_VERSION, 4, `version ${this.u16(4)}.${this.u16(6)}, this reader knows ${VERSION_MAJOR}.x`);
    if (this.u32(8) !== len) fail(Status.TRUNCATED, 8, `header says ${this.u32(8)} B, the file has ${len} B`);
    const crc = containerCrc(this.bytes);
    if (this.u32(16) !== crc) fail(Status.BAD_CHECKSUM, 16, `CRC-32 is 0x${this.u32(16).toString(16)}, the bytes give 0x${crc.toString(16)}`);
    for (const o of [20, 24, 28]) if (this.u32(o) !== 0) fail(Status.BAD_VERSION, o, `header ${o === 20 ? 'flags' : 'reserved'} must be 0 in version ${VERSION_MAJOR}`);
    const n = this.u32(12);
    if (n < 1 || n > MAX_SECTIONS) fail(Status.BAD_SECTION, 12, `sectionCount ${n} is outside 1..${MAX_SECTIONS}`);
    if (HEADER_BYTES + n * SECTION_ENTRY_BYTES > len) fail(Status.TRUNCATED, 12, `${n} section entries do not fit in ${len} B`);
  }

  checkSections(): void {
    const n = this.u32(12);
    const len = this.bytes.length;
    const tableEnd = HEADER_BYTES + n * SECTION_ENTRY_BYTES;
    for (let i = 0; i < n; i++) {
      const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
      const kind = this.u32(e), offset = this.u32(e + 4), length = this.u32(e + 8);
      if (kind < 1 || kind >= SECTION_COUNT) fail(Status.BAD_SECTION, e, `section ${i} has unknown kind ${kind}`);
      if (this.sections.has(kind)) fail(Status.BAD_SECTION, e, `section ${Section[kind]} appears twice`);
      if (offset % ALIGN !== 0 || offset < tableEnd || offset > len) fail(Status.BAD_SECTION, e + 4, `section ${Section[kind]} offset ${offset} is not 16-aligned inside ${tableEnd}..${len}`);
      if (length > len - offset) fail(Status.BAD_SECTION, e + 8, `section ${Section[kind]} (${offset} + ${length} B) runs past the end (${len} B)`);
      for (const [other, s] of this.sections) {
        if (length > 0 && s.length > 0 && offset < s.offset + s.length && s.offset < offset + length) {
          fail(Status.BAD_SECTION, e + 4, `section ${Section[kind]} overlaps section ${Section[other]}`);
        }
      }
      this.sections.set(kind, { offset, length, entry: e });
    }
    for (const s of [Section.TENSORS, Section.OPS, Section.DATA, Section.PLAN]) {
      if (!this.sections.has(s)) fail(Status.BAD_SECTION, 12, `required section ${Section[s]} is missing`);
    }
    const t = this.sec(Section.TENSORS);
    this.tensorCount = t.length / TENSOR_RECORD_BYTES;
    if (t.length === 0 || t.length % TENSOR_RECORD_BYTES !== 0 || this.tensorCount > MAX_TENSORS) {
      fail(Status.BAD_SECTION, t.entry + 8, `TENSORS length ${t.length} is not 1..${MAX_TENSORS} records of ${TENSOR_RECORD_BYTES} B`);
    }
    const o = this.sec(Section.OPS);
    this.opCount = o.length / OP_RECORD_BYTES;
    if (o.length === 0 || o.length % OP_RECORD_BYTES !== 0 || this.opCount > MAX_OPS) {
      fail(Status.BAD_SECTION, o.entry + 8, `OPS length ${o.length} is not 1..${MAX_OPS} records of ${OP_RECORD_BYTES} B`);
    }
    const p = this.sec(Section.PLAN);
    if (p.length < PLAN_HEADER_BYTES) fail(Status.BAD_SECTION, p.entry + 8, `PLAN length ${p.length} is shorter than its ${PLAN_HEADER_BYTES} B header`);
  }

  checkPlanHeader(): void {
    const p = this.sec(Section.PLAN);
    const at = p.offset;
    this.arenaBytes = this.u32(at);
    if (this.arenaBytes % ALIGN !== 0) fail(Status.BAD_PLAN, at, `arenaBytes ${this.arenaBytes} is not a multiple of ${ALIGN}`);
    const ni = this.u32(at + 4), no = this.u32(at + 8);
    if (ni < 1 || ni > MAX_GRAPH_IO) fail(Status.BAD_PLAN, at + 4, `inputCount ${ni} is outside 1..${MAX_GRAPH_IO}`);
    if (no < 1 || no > MAX_GRAPH_IO) fail(Status.BAD_PLAN, at + 8, `outputCount ${no} is outside 1..${MAX_GRAPH_IO}`);
    if (this.u32(at + 12) !== 0) fail(Status.BAD_PLAN, at + 12, 'PLAN reserved field must be 0');
    const want = PLAN_HEADER_BYTES + 2 * (ni + no);
    if (p.length !== want) fail(Status.BAD_SECTION, p.entry + 8, `PLAN length ${p.length}, expected ${want} for ${ni} inputs and ${no} outputs`);
  }

  checkTensors(): void {
    const dataLength = this.sec(Section.DATA).length;
    for (let t = 0; t < this.tensorCount; t++) {
      const r = this.tensorAt(t);
      const bad = (at: number, msg: string): never => fail(Status.BAD_TENSOR, r + at, `tensor ${t}: ${msg}`);
      const dtype = this.u8(r), rank = this.u8(r + 1), storage = this.u8(r + 2), category = this.u8(r + 3);
      if (dtype < 1 || dtype >= DTYPE_COUNT) bad(0, `unknown dtype ${dtype}`);
      if (rank < 1 || rank > MAX_RANK) bad(1, `rank ${rank} is outside 1..${MAX_RANK}`);
      if (storage !== Storage.CONST && storage !== Storage.ARENA) bad(2, `unknown storage ${storage}`);
      if (storage === Storage.CONST ? category !== Category.NONE : category < 1 || category >= CATEGORY_COUNT) {
        bad(3, `category ${category} is not valid for ${Storage[storage]} storage`);
      }
      let elements = 1;
      for (let d = 0; d < MAX_RANK; d++) {
        const dim = this.u32(r + 4 + 4 * d);
        if (d < rank ? dim < 1 : dim !== 1) bad(4 + 4 * d, `dim ${d} is ${dim} (rank ${rank})`);
        elements = Math.min(elements * dim, 2 ** 31); // saturates above the limit, exact below (as the device)
      }
      const bytes = elements * dtypeSize(dtype);
      if (bytes > MAX_TENSOR_BYTES || this.u32(r + 24) !== bytes) bad(24, `bytes is ${this.u32(r + 24)}, the shape gives ${bytes} (at most ${MAX_TENSOR_BYTES})`);
      const offset = this.u32(r + 20);
      if (offset % ALIGN !== 0) bad(20, `offset ${offset} is not a multiple of ${ALIGN}`);
      const limit = storage === Storage.CONST ? dataLength : this.arenaBytes;
      if (offset + bytes > limit) bad(20, `${offset} + ${bytes} B lies past the ${storage === Storage.CONST ? 'DATA section' : 'arena'} (${limit} B)`);
      const scale = this.f32(r + 28);
      if (!(scale === 0 || (Number.isFinite(scale) && scale > 0))) bad(28, `scale ${scale} is neither 0 nor finite and positive`);
      const zp = this.i32(r + 32);
      const [zlo, zhi] = dtype === DType.INT8 ? [-128, 127] : dtype === DType.UINT8 ? [0, 255] : [0, 0];
      if (zp < zlo || zp > zhi) bad(32, `zeroPoint ${zp} is outside ${zlo}..${zhi} for ${DType[dtype]}`);
      const cs = this.u16(r + 36);
      if (cs !== NO_TENSOR) {
        if (cs >= this.tensorCount) bad(36, `channelScales index ${cs} is not below tensorCount ${this.tensorCount}`);
        const s = this.tensorAt(cs);
        if (this.u8(s) !== DType.FLOAT32 || this.u8(s + 2) !== Storage.CONST) bad(36, `channelScales tensor ${cs} is not a CONST FLOAT32 tensor`);
      }
      const init = this.u16(r + 38);
      if (init !== 0) {
        const src = init - 1;
        if (storage !== Storage.ARENA || category !== Category.TRAINABLE) bad(38, 'init is set but the tensor is not an ARENA TRAINABLE tensor');
        if (src >= this.tensorCount) bad(38, `init names tensor ${src}, not below tensorCount ${this.tensorCount}`);
        const s = this.tensorAt(src);
        if (this.u8(s + 2) !== Storage.CONST || this.u8(s) !== dtype || this.u32(s + 24) !== bytes) bad(38, `init tensor ${src} is not a CONST ${DType[dtype]} tensor of ${bytes} B`);
      }
    }
  }

  checkPlanIndices(): void {
    const at = this.sec(Section.PLAN).offset;
    const ni = this.u32(at + 4), no = this.u32(at + 8);
    this.first = new Int32Array(this.tensorCount).fill(-1);
    this.last = new Int32Array(this.tensorCount).fill(-1);
    for (let i = 0; i < ni + no; i++) {
      const o = at + PLAN_HEADER_BYTES + 2 * i;
      const t = this.u16(o);
      const role = i < ni ? `graph input ${i}` : `graph output ${i - ni}`;
      if (t >= this.tensorCount) fail(Status.BAD_PLAN, o, `${role} is tensor ${t}, not below tensorCount ${this.tensorCount}`);
      const r = this.tensorAt(t);
      if (this.u8(r + 2) !== Storage.ARENA || this.u8(r + 3) === Category.SCRATCH) fail(Status.BAD_PLAN, o, `${role} (tensor ${t}) is not a non-scratch ARENA tensor`);
      const list = i < ni ? this.planInputs : this.planOutputs;
      if (list.includes(t)) fail(Status.BAD_PLAN, o, `${role} (tensor ${t}) is listed twice`);
      list.push(t);
      if (i < ni) this.first[t] = this.last[t] = 0;
    }
    // trainable tensors initialised at load and optimizer state are live from the first step to the last
    for (let t = 0; t < this.tensorCount; t++) if (this.persistent(t)) this.first[t] = this.last[t] = 0;
  }

  /** Initialised at load (TRAINABLE with init) or optimizer state (ARENA OPTIMIZER, zeroed at load): kept across runs. */
  private persistent(t: number): boolean {
    const r = this.tensorAt(t);
    return this.u16(r + 38) !== 0 || (this.u8(r + 2) === Storage.ARENA && this.u8(r + 3) === Category.OPTIMIZER);
  }

  checkOps(): void {
    for (let k = 0; k < this.opCount; k++) this.checkOp(k);
  }

  private checkOp(k: number): void {
    const o = this.opAt(k);
    const bad = (at: number, msg: string): never => fail(Status.BAD_OP, at, `op ${k}: ${msg}`);
    const code = this.u8(o);
    if (code < 1 || code >= OP_COUNT) bad(o, `unknown op ${code}`);
    const rule = OP_RULES[code as Op];
    const name = Op[code];
    if (this.u8(o + 1) !== rule.inputs.length) bad(o + 1, `${name} takes ${rule.inputs.length} inputs, record says ${this.u8(o + 1)}`);
    const nOutputs = rule.noOutput ? 0 : 1;
    if (this.u8(o + 2) !== nOutputs) bad(o + 2, `nOutputs is ${this.u8(o + 2)}, ${name} has ${nOutputs}`);
    if (this.u8(o + 3) !== 0) bad(o + 3, 'reserved field must be 0');
    const ids: number[] = [];
    for (let s = 0; s < OP_MAX_INPUTS; s++) {
      const at = o + 4 + 2 * s;
      const t = this.u16(at);
      const slot = rule.inputs[s];
      ids.push(t);
      if (!slot || (t === NO_TENSOR && slot.optional)) {
        if (t !== NO_TENSOR) bad(at, `${name} input slot ${s} must be empty (0xFFFF), is ${t}`);
        continue;
      }
      if (t >= this.tensorCount) bad(at, `${name} input ${slot.name} is tensor ${t}, not below tensorCount ${this.tensorCount}`);
      const r = this.tensorAt(t);
      if (slot.dtype !== 0 && this.u8(r) !== slot.dtype) bad(at, `${name} input ${slot.name} (tensor ${t}) is ${DType[this.u8(r)]}, must be ${DType[slot.dtype]}`);
      const storage = this.u8(r + 2);
      if (slot.constOnly && storage !== Storage.CONST) bad(at, `${name} input ${slot.name} (tensor ${t}) must be CONST`);
      if (storage === Storage.ARENA && this.first[t] < 0) bad(at, `${name} reads tensor ${t} before any op writes it (and it is no graph input)`);
      if (rule.updates?.includes(s) && (storage !== Storage.ARENA || this.u8(r + 3) !== Category.TRAINABLE)) bad(at, `${name} updates ${slot.name} (tensor ${t}) in place: it must be an ARENA TRAINABLE tensor`);
    }
    const oa = o + 12;
    const out = this.u16(oa);
    if (rule.noOutput) {
      if (out !== NO_TENSOR) bad(oa, `${name} writes no output tensor (it updates its inputs); the field must be 0xFFFF, is ${out}`);
    } else {
      if (out >= this.tensorCount) bad(oa, `output is tensor ${out}, not below tensorCount ${this.tensorCount}`);
      const ro = this.tensorAt(out);
      if (this.u8(ro + 2) !== Storage.ARENA || this.u8(ro + 3) === Category.SCRATCH) bad(oa, `output tensor ${out} is not a non-scratch ARENA tensor`);
      if (this.first[out] >= 0) bad(oa, `output tensor ${out} is already written (by an earlier op or as a graph input)`);
      const outDtype = rule.output === 0 ? this.u8(this.tensorAt(ids[0])) : rule.output;
      if (this.u8(ro) !== outDtype) bad(oa, `${name} output (tensor ${out}) is ${DType[this.u8(ro)]}, must be ${DType[outDtype]}`);
    }
    const sa = o + 14;
    const scratch = this.u16(sa);
    if (scratch !== NO_TENSOR) {
      if (scratch >= this.tensorCount) bad(sa, `scratch is tensor ${scratch}, not below tensorCount ${this.tensorCount}`);
      const rs = this.tensorAt(scratch);
      const state = rule.updates !== undefined && this.u8(rs + 3) === Category.OPTIMIZER && (this.u8(rs) === DType.FLOAT32 || this.u8(rs) === DType.INT8);
      if (this.u8(rs + 2) !== Storage.ARENA || (this.u8(rs + 3) !== Category.SCRATCH && !state)) bad(sa, `scratch tensor ${scratch} is not an ARENA SCRATCH tensor (nor the FLOAT32 or INT8 OPTIMIZER state of an update op)`);
    }
    const view: OpView = {
      op: code, record: o, ids, output: out, scratch,
      param: (i) => this.i32(o + 16 + 4 * i),
      dims: (t) => [0, 1, 2, 3].map((d) => this.u32(this.tensorAt(t) + 4 + 4 * d)),
      rank: (t) => this.u8(this.tensorAt(t) + 1),
      scale: (t) => this.f32(this.tensorAt(t) + 28),
      zeroPoint: (t) => this.i32(this.tensorAt(t) + 32),
      dtype: (t) => this.u8(this.tensorAt(t)),
      constI32: (t, i) => {
        const at = this.sec(Section.DATA).offset + this.u32(this.tensorAt(t) + 20) + 4 * i;
        return [this.i32(at), at];
      },
      channelScales: (t) => this.u16(this.tensorAt(t) + 36),
      constBytes: (t) => {
        const at = this.sec(Section.DATA).offset + this.u32(this.tensorAt(t) + 20);
        return [this.bytes.subarray(at, at + this.u32(this.tensorAt(t) + 24)), at];
      },
    };
    checkOpParams(view, (at, msg) => bad(at, msg));
    checkOpShapes(view, (at, msg) => bad(at, msg));
    // lifetimes: written at k, read through k, scratch live only at the steps using it
    if (!rule.noOutput) this.first[out] = this.last[out] = k;
    for (let s = 0; s < rule.inputs.length; s++) {
      const t = ids[s];
      if (t !== NO_TENSOR && this.u8(this.tensorAt(t) + 2) === Storage.ARENA) this.last[t] = k;
    }
    if (scratch !== NO_TENSOR) {
      if (this.first[scratch] < 0) this.first[scratch] = k;
      this.last[scratch] = k;
    }
  }

  checkLifetimes(): void {
    for (let t = 0; t < this.tensorCount; t++) if (this.persistent(t)) this.last[t] = this.opCount - 1;
    const at = this.sec(Section.PLAN).offset + PLAN_HEADER_BYTES + 2 * this.planInputs.length;
    this.planOutputs.forEach((t, i) => {
      if (this.first[t] < 0 || this.planInputs.includes(t)) fail(Status.BAD_PLAN, at + 2 * i, `graph output ${i} (tensor ${t}) is written by no op`);
      this.last[t] = this.opCount - 1;
    });
    for (let j = 0; j < this.tensorCount; j++) {
      if (this.first[j] < 0 || this.u8(this.tensorAt(j) + 2) !== Storage.ARENA) continue;
      for (let i = 0; i < j; i++) {
        if (this.first[i] < 0 || this.u8(this.tensorAt(i) + 2) !== Storage.ARENA) continue;
        if (this.conflict(i, j)) {
          fail(Status.BAD_PLAN, this.tensorAt(j) + 20, `ARENA tensors ${i} and ${j} are live at the same time (steps ${this.first[i]}..${this.last[i]} and ${this.first[j]}..${this.last[j]}) and overlap in the arena`);
        }
      }
    }
  }

  private span(t: number): [number, number] {
    const r = this.tensorAt(t);
    return [this.u32(r + 20), this.u32(r + 24)];
  }

  /** Live together and overlapping in bytes, unless one is the other's in-place output. */
  private conflict(i: number, j: number): boolean {
    const [oi, bi] = this.span(i), [oj, bj] = this.span(j);
    const together = this.first[i] <= this.last[j] && this.first[j] <= this.last[i];
    const overlap = oi < oj + bj && oj < oi + bi;
    return together && overlap && !this.inPlace(i, j) && !this.inPlace(j, i);
  }

  /** `out` is written in place over `input` by an op that allows it, and `input` dies there. */
  private inPlace(input: number, out: number): boolean {
    const k = this.first[out];
    if (this.planInputs.includes(out) || this.planOutputs.includes(input)) return false;
    const o = this.opAt(k);
    const slots = OP_RULES[this.u8(o) as Op].inPlace ?? [];
    if (this.u16(o + 12) !== out || this.last[input] !== k) return false;
    const [ai, bi] = this.span(input), [ao, bo] = this.span(out);
    if (ai !== ao || bi !== bo) return false;
    for (const s of slots) if (s < this.u8(o + 1) && this.u16(o + 4 + 2 * s) === input) return true;
    return false;
  }

  decode(): ContainerModel {
    const tensors: TensorRecord[] = [];
    for (let t = 0; t < this.tensorCount; t++) {
      const r = this.tensorAt(t);
      const rank = this.u8(r + 1);
      tensors.push({
        dtype: this.u8(r), shape: Array.from({ length: rank }, (_, d) => this.u32(r + 4 + 4 * d)),
        storage: this.u8(r + 2), category: this.u8(r + 3), offset: this.u32(r + 20), bytes: this.u32(r + 24),
        scale: this.f32(r + 28), zeroPoint: this.i32(r + 32), channelScales: this.u16(r + 36),
        ...(this.u16(r + 38) !== 0 ? { init: this.u16(r + 38) - 1 } : {}),
      });
    }
    const ops: OpRecord[] = [];
    for (let k = 0; k < this.opCount; k++) {
      const o = this.opAt(k);
      ops.push({
        op: this.u8(o),
        inputs: Array.from({ length: this.u8(o + 1) }, (_, s) => this.u16(o + 4 + 2 * s)),
        output: this.u16(o + 12), scratch: this.u16(o + 14),
        params: Array.from({ length: OP_PARAM_COUNT }, (_, i) => this.i32(o + 16 + 4 * i)),
      });
    }
    const d = this.sec(Section.DATA);
    const model: ContainerModel = {
      tensors, ops,
      data: this.bytes.slice(d.offset, d.offset + d.length),
      plan: { arenaBytes: this.arenaBytes, inputs: this.planInputs, outputs: this.planOutputs },
    };
    const names = this.json(Section.NAMES);
    if (names !== undefined) {
      if (!Array.isArray(names) || names.length !== this.tensorCount || !names.every((n) => typeof n === 'string')) {
        throw new ContainerError(Status.BAD_SECTION, this.sec(Section.NAMES).offset, `NAMES must be a JSON array of ${this.tensorCount} strings`, true);
      }
      model.names = names;
    }
    const meta = this.json(Section.META);
    if (meta !== undefined) {
      if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
        throw new ContainerError(Status.BAD_SECTION, this.sec(Section.META).offset, 'META must be a JSON object', true);
      }
      model.meta = meta as Record<string, unknown>;
    }
    return model;
  }

  private json(kind: Section): unknown {
    const s = this.sections.get(kind);
    if (!s) return undefined;
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(s.offset, s.offset + s.length)));
    } catch (e) {
      throw new ContainerError(Status.BAD_SECTION, s.offset, `${Section[kind]} is not UTF-8 JSON: ${(e as Error).message}`, true);
    }
  }
}
