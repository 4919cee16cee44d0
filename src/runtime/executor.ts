// The plan executor: validates a container once, binds the arena, runs the schedule.
//
// Linear memory after the module's static data (each region 16-aligned):
//
//   __heap_base  container (len B, written by the host; read in place, never modified)
//                lifetime table (4 B per possible tensor: first/last step, u16 each)
//                arena (PLAN.arenaBytes B, every ARENA tensor at its planned offset)
//
// load() does every check; run() only dispatches to kernels.

import { NO_TENSOR, Op, Status } from '../formats/schema';
import {
  LIFETIME_BYTES, arenaBytesOf, constData, containerErrorDetail, containerErrorOp, graphInput, graphInputCount,
  graphOutput, graphOutputCount, opCode, opCountOf, opInput, opInputCount, opOutput, opParam, opScratch,
  tensorBytes, tensorCategory, tensorCountOf, tensorDim, tensorElements, tensorIsArena, tensorPersistent, tensorLastStep,
  tensorFirstStep, tensorOffset, tensorRank, tensorScale, tensorZeroPoint, validateContainer,
} from './container';
import { arenaBase, arenaBind, arenaPlace, arenaRelease, arenaReset, arenaStepDone } from './arena';
import { add_s8 } from './kernels/add_s8';
import { add_s8_simd } from './kernels/add_s8_simd';
import { avg_pool_s8 } from './kernels/avg_pool_s8';
import { avg_pool_s8_simd } from './kernels/avg_pool_s8_simd';
import { conv1x1_s8 } from './kernels/conv1x1_s8';
import { conv1x1_s8_simd } from './kernels/conv1x1_s8_simd';
import { conv2d_s8 } from './kernels/conv2d_s8';
import { conv2d_s8_simd } from './kernels/conv2d_s8_simd';
import { depthwise_conv2d_s8 } from './kernels/depthwise_conv2d_s8';
import { depthwise_conv2d_s8_simd } from './kernels/depthwise_conv2d_s8_simd';
import { dequantize_s8_f32 } from './kernels/dequantize_s8_f32';
import { expand_depthwise_s8 } from './kernels/expand_depthwise_s8';
import { expand_depthwise_s8_simd } from './kernels/expand_depthwise_s8_simd';
import { fully_connected_s8 } from './kernels/fully_connected_s8';
import { fully_connected_s8_simd } from './kernels/fully_connected_s8_simd';
import { global_avg_pool_s8 } from './kernels/global_avg_pool_s8';
import { global_avg_pool_s8_simd } from './kernels/global_avg_pool_s8_simd';
import { max_pool_s8 } from './kernels/max_pool_s8';
import { max_pool_s8_simd } from './kernels/max_pool_s8_simd';
import { quantize_f32_s8 } from './kernels/quantize_f32_s8';
import { quantize_f32_s8_simd } from './kernels/quantize_f32_s8_simd';
import { softmax_s8 } from './kernels/softmax_s8';
import { sparse_conv1x1_s8 } from './kernels/sparse_conv1x1_s8';
import { sparse_conv1x1_s8_simd } from './kernels/sparse_conv1x1_s8_simd';
import { sparse_fully_connected_s8 } from './kernels/sparse_fully_connected_s8';
import { sparse_fully_connected_s8_simd } from './kernels/sparse_fully_connected_s8_simd';

let reserved: u32 = 0;
let validated = false;
let loaded = false;
let errorDetail: i32 = -1;
let errorOp: i32 = -1;

function heapStart(): usize { return (__heap_base + 15) & ~(<usize>15); }
function align16(p: u64): u64 { return (p + 15) & ~(<u64>15); }

/** Grows memory so that bytes below `end` exist; false when it cannot. */
function ensureMemory(end: u64): bool {
  if (end > <u64>0x100000000) return false;
  const have = <u64>memory.size() << 16;
  if (end <= have) return true;
  return memory.grow(<i32>((end - have + 0xffff) >> 16)) >= 0;
}

/** Reserves `len` bytes for a container and returns where the host must write it (0: no memory). */
export function container_buffer(len: u32): usize {
  loaded = validated = false;
  reserved = 0;
  if (!ensureMemory(<u64>heapStart() + len)) return 0;
  reserved = len;
  return heapStart();
}

/** Validates the container written at container_buffer(len), checks it fits `budget` arena bytes, places the arena. */
export function load(len: u32, budget: u32): i32 {
  loaded = validated = accounted = false;
  errorDetail = -1;
  errorOp = -1;
  if (len > reserved) return Status.BAD_ARGUMENT;
  const container = heapStart();
  const table = align16(<u64>container + len);
  const tableEnd = align16(table + <u64>(len / 40) * LIFETIME_BYTES);
  if (!ensureMemory(tableEnd)) return Status.OUT_OF_MEMORY;
  const status = validateContainer(container, len, <usize>table);
  if (status != Status.OK) {
    errorDetail = containerErrorDetail();
    errorOp = containerErrorOp();
    return status;
  }
  validated = true;
  const arenaBytes = arenaBytesOf();
  if (arenaBytes > budget) return Status.OVER_BUDGET;
  if (!ensureMemory(tableEnd + arenaBytes)) return Status.OUT_OF_MEMORY;
  arenaPlace(<usize>tableEnd, arenaBytes);
  loaded = true;
  return Status.OK;
}

export function input_count(): u32 { return loaded ? graphInputCount() : 0; }
export function output_count(): u32 { return loaded ? graphOutputCount() : 0; }
export function input_ptr(i: u32): usize { return i < input_count() ? arenaBase() + tensorOffset(graphInput(i)) : 0; }
export function input_bytes(i: u32): u32 { return i < input_count() ? tensorBytes(graphInput(i)) : 0; }
export function output_ptr(i: u32): usize { return i < output_count() ? arenaBase() + tensorOffset(graphOutput(i)) : 0; }
export function output_bytes(i: u32): u32 { return i < output_count() ? tensorBytes(graphOutput(i)) : 0; }
/** The planned arena size, once the container validated (also after OVER_BUDGET). */
export function arena_bytes(): u32 { return validated ? arenaBytesOf() : 0; }
export function error_detail(): i32 { return errorDetail; }
export function error_op(): i32 { return errorOp; }
/** True once a container validated and its arena is placed. */
export function isLoaded(): bool { return loaded; }
export function setRunErrorDetail(detail: i32): void { errorDetail = detail; }

function bind(t: u32): void { arenaBind(tensorOffset(t), tensorBytes(t), tensorCategory(t)); }
function release(t: u32): void { arenaRelease(tensorBytes(t), tensorCategory(t)); }

/** The input of op k whose buffer the output takes over (in place), or NO_TENSOR. */
function aliasedInput(k: u32): u32 {
  const out = opOutput(k);
  if (out == NO_TENSOR) return NO_TENSOR; // an op that only updates its inputs
  for (let s: u32 = 0; s < opInputCount(k); s++) {
    const t = opInput(k, s);
    if (t != NO_TENSOR && tensorIsArena(t) && tensorOffset(t) == tensorOffset(out)) return t;
  }
  return NO_TENSOR;
}

/** Slot `s` of op k names an ARENA tensor that dies at k and no earlier slot names it. */
function diesHere(k: u32, s: u32): bool {
  const t = opInput(k, s);
  if (t == NO_TENSOR || !tensorIsArena(t) || tensorLastStep(t) != k) return false;
  for (let e: u32 = 0; e < s; e++) if (opInput(k, e) == t) return false;
  return true;
}

/** Runs the schedule once over the inputs in the arena. */
export function run(): i32 {
  return runSchedule(dispatch);
}

/**
 * The arena accounting (bind/release around every op, high-water marks by category) is a
 * function of the schedule alone, never of the data, so the first successful run after load
 * measures it and later runs only dispatch: high_water() and high_water_of() keep its values.
 */
let accounted = false;

/** Runs `step` for every op k of the schedule (accounted on the first successful run after load); the first failure's Status. */
export function runSchedule(step: (k: u32) => Status): i32 {
  if (!loaded) return Status.NOT_LOADED;
  const steps = opCountOf();
  if (accounted) {
    errorDetail = -1;
    errorOp = -1;
    for (let k: u32 = 0; k < steps; k++) {
      const status = step(k);
      if (status != Status.OK) {
        errorOp = <i32>k;
        return status;
      }
    }
    return Status.OK;
  }
  runBegin();
  for (let k: u32 = 0; k < steps; k++) {
    const alias = stepBegin(k);
    const status = step(k);
    if (status != Status.OK) {
      errorOp = <i32>k;
      return status;
    }
    stepEnd(k, alias);
  }
  accounted = true;
  return Status.OK;
}

/**
 * Before step 0: clears the measurements and binds what is live from the start: the graph
 * inputs and the trainable tensors (initialised at load, live for the whole schedule).
 */
function runBegin(): void {
  errorDetail = -1;
  errorOp = -1;
  arenaReset();
  for (let i: u32 = 0; i < graphInputCount(); i++) bind(graphInput(i));
  for (let t: u32 = 0; t < tensorCountOf(); t++) if (tensorPersistent(t)) bind(t);
}

/** Binds what step k creates; returns the input whose buffer its output takes over (or NO_TENSOR). */
function stepBegin(k: u32): u32 {
  const out = opOutput(k), scratch = opScratch(k), alias = aliasedInput(k);
  if (alias != NO_TENSOR) release(alias); // the output takes over its bytes
  if (out != NO_TENSOR) bind(out);
  if (scratch != NO_TENSOR && tensorFirstStep(scratch) == k) bind(scratch);
  arenaStepDone();
  return alias;
}

/** Releases what dies at step k. */
function stepEnd(k: u32, alias: u32): void {
  const out = opOutput(k), scratch = opScratch(k);
  for (let s: u32 = 0; s < opInputCount(k); s++) {
    if (diesHere(k, s) && opInput(k, s) != alias) release(opInput(k, s));
  }
  if (scratch != NO_TENSOR && tensorLastStep(scratch) == k) release(scratch);
  if (out != NO_TENSOR && tensorLastStep(out) == k) release(out);
  if (k == 0) releaseUnreadInputs();
}

/** Graph inputs no op reads are live at step 0 only. */
function releaseUnreadInputs(): void {
  for (let i: u32 = 0; i < graphInputCount(); i++) {
    const t = graphInput(i);
    if (tensorLastStep(t) != 0) continue;
    let read = false;
    for (let s: u32 = 0; s < opInputCount(0); s++) read = read || opInput(0, s) == t;
    if (!read) release(t);
  }
}

// ---------------------------------------------------------------------------------------
// Dispatch: one call per op (batches looped here), SIMD variants only in the simd build.

/** Address of tensor t's bytes: in the arena or in the container (0 for NO_TENSOR). */
export function ptr(t: u32): usize {
  if (t == NO_TENSOR) return 0;
  return tensorIsArena(t) ? arenaBase() + tensorOffset(t) : constData(t);
}

/** Runs inference op k; BAD_OP for an op this executor does not run (train-step ops). */
export function dispatch(k: u32): Status {
  const code = opCode(k);
  if (code >= <u32>Op.RELU_MASK && code != Op.EXPAND_DEPTHWISE) return Status.BAD_OP; // before reading an output it may not have
  const x = opInput(k, 0), w = opInput(k, 1), b = opInput(k, 2), rq = opInput(k, 3), out = opOutput(k);
  const xp = ptr(x), wp = ptr(w), bp = ptr(b), rqp = ptr(rq), op = ptr(out);
  const n = tensorDim(x, 0), h = tensorDim(x, 1), wd = tensorDim(x, 2), c = tensorDim(x, 3);
  const oh = tensorDim(out, 1), ow = tensorDim(out, 2), oc = tensorDim(out, 3);
  const xStep = <usize>(h * wd * c), oStep = <usize>(oh * ow * oc); // int8 bytes per batch item
  const xZp = tensorZeroPoint(x), oZp = tensorZeroPoint(out);
  const p0 = opParam(k, 0), p1 = opParam(k, 1), p2 = opParam(k, 2), p3 = opParam(k, 3);
  const p4 = opParam(k, 4), p5 = opParam(k, 5), p6 = opParam(k, 6), p7 = opParam(k, 7);
  switch (code) {
    case Op.CONV2D: {
      const kh = tensorDim(w, 1), kw = tensorDim(w, 2), co = tensorDim(w, 0);
      for (let i = 0; i < n; i++) {
        const xi = xp + <usize>i * xStep, oi = op + <usize>i * oStep;
        if (ASC_FEATURE_SIMD) conv2d_s8_simd(xi, h, wd, c, xZp, wp, kh, kw, co, bp, rqp, oi, oh, ow, oZp, p0, p1, p2, p3, p4, p5);
        else conv2d_s8(xi, h, wd, c, xZp, wp, kh, kw, co, bp, rqp, oi, oh, ow, oZp, p0, p1, p2, p3, p4, p5);
      }
      break;
    }
    case Op.DEPTHWISE_CONV2D: {
      const kh = tensorDim(w, 1), kw = tensorDim(w, 2);
      for (let i = 0; i < n; i++) {
        const xi = xp + <usize>i * xStep, oi = op + <usize>i * oStep;
        if (ASC_FEATURE_SIMD) depthwise_conv2d_s8_simd(xi, h, wd, c, xZp, wp, kh, kw, bp, rqp, oi, oh, ow, oZp, p0, p1, p2, p3, p4, p5);
        else depthwise_conv2d_s8(xi, h, wd, c, xZp, wp, kh, kw, bp, rqp, oi, oh, ow, oZp, p0, p1, p2, p3, p4, p5);
      }
      break;
    }
    case Op.CONV1X1: {
      for (let i = 0; i < n; i++) {
        const xi = xp + <usize>i * xStep, oi = op + <usize>i * oStep;
        if (ASC_FEATURE_SIMD) conv1x1_s8_simd(xi, h * wd, c, xZp, wp, oc, bp, rqp, oi, oZp, p4, p5);
        else conv1x1_s8(xi, h * wd, c, xZp, wp, oc, bp, rqp, oi, oZp, p4, p5);
      }
      break;
    }
    case Op.EXPAND_DEPTHWISE: {
      // w, b, rq hold the expand's constants, then the depthwise's; the scratch tensor is the ring of expanded rows
      const ring = opScratch(k), ce = oc, ringZp = tensorZeroPoint(ring), ringRows = tensorDim(ring, 1);
      const dwp = wp + <usize>(ce * c), dbp = bp == 0 ? 0 : bp + <usize>(4 * ce), drq = rqp + <usize>(8 * ce);
      const kh = p6, kw = p7, eMin = opParam(k, 8), eMax = opParam(k, 9);
      for (let i = 0; i < n; i++) {
        const xi = xp + <usize>i * xStep, oi = op + <usize>i * oStep;
        if (ASC_FEATURE_SIMD) expand_depthwise_s8_simd(xi, h, wd, c, xZp, wp, ce, bp, rqp, ringZp, eMin, eMax, ptr(ring), ringRows, dwp, kh, kw, dbp, drq, oi, oh, ow, oZp, p0, p1, p2, p3, p4, p5);
        else expand_depthwise_s8(xi, h, wd, c, xZp, wp, ce, bp, rqp, ringZp, eMin, eMax, ptr(ring), ringRows, dwp, kh, kw, dbp, drq, oi, oh, ow, oZp, p0, p1, p2, p3, p4, p5);
      }
      break;
    }
    case Op.FULLY_CONNECTED: {
      const inC = tensorElements(x) / n, outC = tensorDim(out, 1);
      if (ASC_FEATURE_SIMD) fully_connected_s8_simd(xp, n, inC, xZp, wp, outC, bp, rqp, op, oZp, p4, p5);
      else fully_connected_s8(xp, n, inC, xZp, wp, outC, bp, rqp, op, oZp, p4, p5);
      break;
    }
    case Op.SPARSE_CONV1X1: {
      for (let i = 0; i < n; i++) {
        const xi = xp + <usize>i * xStep, oi = op + <usize>i * oStep;
        if (ASC_FEATURE_SIMD) sparse_conv1x1_s8_simd(xi, h * wd, c, xZp, wp, oc, bp, rqp, oi, oZp, p4, p5);
        else sparse_conv1x1_s8(xi, h * wd, c, xZp, wp, oc, bp, rqp, oi, oZp, p4, p5);
      }
      break;
    }
    case Op.SPARSE_FULLY_CONNECTED: {
      const inC = tensorElements(x) / n, outC = tensorDim(out, 1);
      if (ASC_FEATURE_SIMD) sparse_fully_connected_s8_simd(xp, n, inC, xZp, wp, outC, bp, rqp, op, oZp, p4, p5);
      else sparse_fully_connected_s8(xp, n, inC, xZp, wp, outC, bp, rqp, op, oZp, p4, p5);
      break;
    }
    case Op.ADD: {
      const count = tensorElements(x), bZp = tensorZeroPoint(w);
      if (ASC_FEATURE_SIMD) add_s8_simd(xp, xZp, wp, bZp, op, oZp, count, p0, p1, p2, p3, p4, p5, p6, p7, opParam(k, 8));
      else add_s8(xp, xZp, wp, bZp, op, oZp, count, p0, p1, p2, p3, p4, p5, p6, p7, opParam(k, 8));
      break;
    }
    case Op.AVG_POOL: case Op.MAX_POOL: {
      for (let i = 0; i < n; i++) {
        const xi = xp + <usize>i * xStep, oi = op + <usize>i * oStep;
        if (code == Op.AVG_POOL) {
          if (ASC_FEATURE_SIMD) avg_pool_s8_simd(xi, h, wd, c, oi, oh, ow, p0, p1, p2, p3, p4, p5, p6, p7);
          else avg_pool_s8(xi, h, wd, c, oi, oh, ow, p0, p1, p2, p3, p4, p5, p6, p7);
        } else {
          if (ASC_FEATURE_SIMD) max_pool_s8_simd(xi, h, wd, c, oi, oh, ow, p0, p1, p2, p3, p4, p5, p6, p7);
          else max_pool_s8(xi, h, wd, c, oi, oh, ow, p0, p1, p2, p3, p4, p5, p6, p7);
        }
      }
      break;
    }
    case Op.GLOBAL_AVG_POOL: {
      const multiplier = opParam(k, 8), shift = opParam(k, 9); // multiplier 0: output keeps the input's scale
      for (let i = 0; i < n; i++) {
        const xi = xp + <usize>i * xStep, oi = op + <usize>i * <usize>c;
        if (ASC_FEATURE_SIMD) global_avg_pool_s8_simd(xi, h, wd, c, oi, p6, p7, xZp, oZp, multiplier, shift);
        else global_avg_pool_s8(xi, h, wd, c, oi, p6, p7, xZp, oZp, multiplier, shift);
      }
      break;
    }
    case Op.RESHAPE: {
      if (op != xp) memory.copy(op, xp, tensorBytes(x));
      break;
    }
    case Op.SOFTMAX: {
      const depth = tensorDim(x, tensorRank(x) - 1);
      softmax_s8(xp, tensorElements(x) / depth, depth, p0, p1, p2, op);
      break;
    }
    case Op.QUANTIZE: {
      const bad = ASC_FEATURE_SIMD
        ? quantize_f32_s8_simd(xp, tensorElements(x), tensorScale(out), oZp, op)
        : quantize_f32_s8(xp, tensorElements(x), tensorScale(out), oZp, op);
      if (bad != 0) {
        errorDetail = <i32>x;
        return Status.BAD_INPUT;
      }
      break;
    }
    case Op.DEQUANTIZE: {
      dequantize_s8_f32(xp, tensorElements(x), tensorScale(x), xZp, op);
      break;
    }
  }
  return Status.OK;
}
