// The training executor: the inference executor's load/run machinery (src/runtime/executor.ts)
// plus the train-step ops (docs/format.md "Train-step ops"), kept in its own module
// (build/sparrow-train.{mvp,simd}.wasm) so the inference executor stays small.
//
// One run() is one train step: forward, loss, pruned backward with the updates in place. The
// TRAINABLE tensors (weights and biases being trained) are copied from their CONST initial
// values once, at load, and keep their bytes across runs: the arena planner gives them a region
// no other buffer shares. Randomness (stochastic rounding) comes from the one PRNG of
// src/train/kernels/prng.ts, seeded by prng_seed.

import { NO_TENSOR, Op, Status } from '../formats/schema';
import {
  constData, opCode, opCountOf, opInput, opOutput, opParam, opScratch, tensorBytes, tensorChannelScales, tensorCountOf,
  tensorDim, tensorElements, tensorInitIndex, tensorOffset, tensorPersistent, tensorRank, tensorScale, tensorZeroPoint,
} from '../runtime/container';
import { arenaBase } from '../runtime/arena';
import {
  dispatch, isLoaded, load as loadContainer, ptr, runSchedule, setRunErrorDetail,
} from '../runtime/executor';
import { apply_mask_f32 } from './kernels/apply_mask_f32';
import { apply_mask_f32_simd } from './kernels/apply_mask_f32_simd';
import { bias_update_s32 } from './kernels/bias_update_s32';
import { avg_pool_backward_f32_acc } from './kernels/avg_pool_backward_f32';
import { conv2d_backward_input_f32_acc } from './kernels/conv2d_backward_input_f32';
import { conv2d_backward_input_f32_acc_simd } from './kernels/conv2d_backward_input_f32_simd';
import { conv2d_update_s8 } from './kernels/conv2d_update_s8';
import { conv2d_update_s8_simd } from './kernels/conv2d_update_s8_simd';
import { depthwise_conv2d_backward_input_f32_acc } from './kernels/depthwise_conv2d_backward_input_f32';
import { depthwise_conv2d_backward_input_f32_acc_simd } from './kernels/depthwise_conv2d_backward_input_f32_simd';
import { depthwise_conv2d_update_s8 } from './kernels/depthwise_conv2d_update_s8';
import { fully_connected_backward_input_f32_acc } from './kernels/fully_connected_backward_input_f32';
import { fully_connected_backward_input_f32_acc_simd } from './kernels/fully_connected_backward_input_f32_simd';
import { fully_connected_update_s8 } from './kernels/fully_connected_update_s8';
import { fully_connected_update_s8_simd } from './kernels/fully_connected_update_s8_simd';
import { global_avg_pool_backward_acc_f32 } from './kernels/global_avg_pool_backward_f32';
import { gradient_add_f32 } from './kernels/gradient_add_f32';
import { max_pool_backward_f32_acc } from './kernels/max_pool_backward_f32';
import { merge_rows_s8 } from './kernels/merge_rows_s8';
import { mse_loss_s8 } from './kernels/mse_loss_s8';
import { mse_s8 } from './kernels/mse_s8';
import { relu_mask_s8 } from './kernels/relu_mask_s8';
import { relu_mask_s8_simd } from './kernels/relu_mask_s8_simd';
import { softmax_cross_entropy_s8 } from './kernels/softmax_cross_entropy_s8';
import { softmax_cross_entropy_loss_s8 } from './kernels/softmax_cross_entropy_loss_s8';

/**
 * Multiplies every update op's learning rates (a schedule without reloading: the trained
 * tensors, momentum and carry state stay as they are). 1 after load.
 */
let rateScale: f32 = 1;

/** Sets the learning-rate multiplier of the following steps; BAD_ARGUMENT (unchanged) unless finite and >= 0. */
export function set_rate_scale(scale: f32): i32 {
  if (!isFinite<f32>(scale) || scale < 0) return Status.BAD_ARGUMENT;
  rateScale = scale;
  return Status.OK;
}

/** As the inference load, then copies every TRAINABLE tensor's initial value into the arena and zeroes the optimizer state. */
export function loadTrainStep(len: u32, budget: u32): i32 {
  rateScale = 1;
  const status = loadContainer(len, budget);
  if (status != Status.OK) return status;
  for (let t: u32 = 0; t < tensorCountOf(); t++) {
    const init = tensorInitIndex(t);
    if (init != NO_TENSOR) memory.copy(arenaBase() + tensorOffset(t), constData(init), tensorBytes(t));
    else if (tensorPersistent(t)) memory.fill(arenaBase() + tensorOffset(t), 0, tensorBytes(t));
  }
  return Status.OK;
}

/** Runs one train step over the sample and label in the arena (accounting: runSchedule). */
export function run(): i32 {
  return runSchedule(dispatchStep);
}

function dispatchStep(k: u32): Status {
  const code = opCode(k);
  return code >= <u32>Op.RELU_MASK && code != Op.EXPAND_DEPTHWISE ? dispatchTrain(k) : dispatch(k);
}

/** Arena address of a tensor kept across runs (trained weights, optimizer state), to read it back; 0 if t is none. */
export function tensor_ptr(t: u32): usize {
  if (!isLoaded() || t >= tensorCountOf() || !tensorPersistent(t)) return 0;
  return arenaBase() + tensorOffset(t);
}

/** The int32 label tensor's value (the loss kernels report one out of range). */
function labelOf(t: u32): i32 { return load<i32>(ptr(t)); }

/** Filter scales of weight tensor w (validated to exist for every op that reads them). */
function scalesOf(w: u32): usize { return constData(tensorChannelScales(w)); }

/**
 * Prepares the output `out` of a gradient op whose kernel adds into it: the gradient already
 * there (`acc`, copied unless the output took its buffer) or zeros.
 */
function startGradient(out: u32, acc: u32): void {
  if (acc == NO_TENSOR) memory.fill(ptr(out), 0, tensorBytes(out));
  else if (ptr(acc) != ptr(out)) memory.copy(ptr(out), ptr(acc), tensorBytes(out));
}

/** Kernels return OK, BAD_INPUT (a non-finite value: tensor `detail`) or BAD_ARGUMENT. */
function checked(status: i32, detail: u32): Status {
  if (status != Status.OK) setRunErrorDetail(<i32>detail);
  return <Status>status;
}

function dispatchTrain(k: u32): Status {
  const a = opInput(k, 0), b = opInput(k, 1), c = opInput(k, 2), d = opInput(k, 3), out = opOutput(k);
  const p0 = opParam(k, 0), p1 = opParam(k, 1), p2 = opParam(k, 2), p3 = opParam(k, 3);
  switch (opCode(k)) {
    case Op.RELU_MASK: {
      if (ASC_FEATURE_SIMD) relu_mask_s8_simd(ptr(a), tensorElements(a), p0, p1, ptr(out));
      else relu_mask_s8(ptr(a), tensorElements(a), p0, p1, ptr(out));
      return Status.OK;
    }
    case Op.APPLY_MASK: {
      if (ptr(out) != ptr(a)) memory.copy(ptr(out), ptr(a), tensorBytes(a));
      if (ASC_FEATURE_SIMD) apply_mask_f32_simd(ptr(out), tensorElements(a), ptr(b));
      else apply_mask_f32(ptr(out), tensorElements(a), ptr(b));
      return Status.OK;
    }
    case Op.SOFTMAX_CE_LOSS: case Op.SOFTMAX_CE_GRAD: {
      const classes = tensorDim(a, 1), label = labelOf(b);
      const loss = opCode(k) == Op.SOFTMAX_CE_LOSS
        ? softmax_cross_entropy_loss_s8(ptr(a), classes, tensorScale(a), label)
        : softmax_cross_entropy_s8(ptr(a), classes, tensorScale(a), label, ptr(out));
      if (isNaN<f32>(loss)) return checked(Status.BAD_INPUT, b);
      if (opCode(k) == Op.SOFTMAX_CE_LOSS) store<f32>(ptr(out), loss);
      return Status.OK;
    }
    case Op.CONV2D_BACKWARD_INPUT: {
      const oh = tensorDim(a, 1), ow = tensorDim(a, 2), oc = tensorDim(a, 3), kh = tensorDim(b, 1), kw = tensorDim(b, 2);
      const ih = tensorDim(out, 1), iw = tensorDim(out, 2), ic = tensorDim(out, 3);
      startGradient(out, c);
      if (ASC_FEATURE_SIMD) conv2d_backward_input_f32_acc_simd(ptr(a), oh, ow, oc, ptr(b), kh, kw, scalesOf(b), ptr(out), ih, iw, ic, p0, p1, p2, p3);
      else conv2d_backward_input_f32_acc(ptr(a), oh, ow, oc, ptr(b), kh, kw, scalesOf(b), ptr(out), ih, iw, ic, p0, p1, p2, p3);
      return Status.OK;
    }
    case Op.DEPTHWISE_CONV2D_BACKWARD_INPUT: {
      const oh = tensorDim(a, 1), ow = tensorDim(a, 2), ch = tensorDim(a, 3), kh = tensorDim(b, 1), kw = tensorDim(b, 2);
      const ih = tensorDim(out, 1), iw = tensorDim(out, 2);
      startGradient(out, c);
      if (ASC_FEATURE_SIMD) depthwise_conv2d_backward_input_f32_acc_simd(ptr(a), oh, ow, ch, ptr(b), kh, kw, scalesOf(b), ptr(out), ih, iw, p0, p1, p2, p3);
      else depthwise_conv2d_backward_input_f32_acc(ptr(a), oh, ow, ch, ptr(b), kh, kw, scalesOf(b), ptr(out), ih, iw, p0, p1, p2, p3);
      return Status.OK;
    }
    case Op.FULLY_CONNECTED_BACKWARD_INPUT: {
      const outC = tensorDim(b, 0), inC = tensorDim(b, tensorRank(b) - 1), rows = tensorElements(a) / outC;
      startGradient(out, c);
      if (ASC_FEATURE_SIMD) fully_connected_backward_input_f32_acc_simd(ptr(a), rows, outC, ptr(b), inC, scalesOf(b), ptr(out));
      else fully_connected_backward_input_f32_acc(ptr(a), rows, outC, ptr(b), inC, scalesOf(b), ptr(out));
      return Status.OK;
    }
    case Op.GLOBAL_AVG_POOL_BACKWARD: {
      startGradient(out, b);
      global_avg_pool_backward_acc_f32(ptr(a), tensorDim(out, 1), tensorDim(out, 2), tensorDim(out, 3), ptr(out));
      return Status.OK;
    }
    case Op.AVG_POOL_BACKWARD: {
      startGradient(out, b);
      avg_pool_backward_f32_acc(ptr(a), tensorDim(a, 1), tensorDim(a, 2), tensorDim(a, 3), ptr(out), tensorDim(out, 1), tensorDim(out, 2), p0, p1, p2, p3, opParam(k, 4), opParam(k, 5));
      return Status.OK;
    }
    case Op.MAX_POOL_BACKWARD: {
      startGradient(out, c);
      max_pool_backward_f32_acc(ptr(b), tensorDim(out, 1), tensorDim(out, 2), tensorDim(out, 3), ptr(a), tensorDim(a, 1), tensorDim(a, 2), ptr(out), p0, p1, p2, p3, opParam(k, 4), opParam(k, 5));
      return Status.OK;
    }
    case Op.GRADIENT_ADD: {
      if (b != NO_TENSOR) gradient_add_f32(ptr(a), ptr(b), tensorElements(out), ptr(out));
      else if (ptr(out) != ptr(a)) memory.copy(ptr(out), ptr(a), tensorBytes(out));
      return Status.OK;
    }
    case Op.MSE_LOSS: case Op.MSE_GRAD: {
      const n = tensorElements(a);
      const loss = opCode(k) == Op.MSE_LOSS
        ? mse_loss_s8(ptr(a), tensorScale(a), tensorZeroPoint(a), ptr(b), n)
        : mse_s8(ptr(a), tensorScale(a), tensorZeroPoint(a), ptr(b), n, ptr(out));
      if (!isFinite<f32>(loss)) return checked(Status.BAD_INPUT, b);
      if (opCode(k) == Op.MSE_LOSS) store<f32>(ptr(out), loss);
      return Status.OK;
    }
    case Op.CONV2D_UPDATE: case Op.DEPTHWISE_CONV2D_UPDATE: case Op.FULLY_CONNECTED_UPDATE:
      return checked(weightUpdate(k, a, b, c, d, p0, p1, p2, p3), b);
    case Op.BIAS_UPDATE: {
      const channels = tensorDim(b, 0);
      const status = bias_update_s32(ptr(a), tensorElements(a) / channels, channels, ptr(b), reinterpret<f32>(p0), ptr(d),
        ptr(c), tensorDim(c, 0), reinterpret<f32>(p1) * rateScale, reinterpret<f32>(p3), ptr(opScratch(k)), p2);
      return checked(status, a);
    }
    case Op.MERGE_ROWS: {
      const rowBytes = tensorDim(a, 1) * tensorDim(a, 2) * tensorDim(a, 3);
      return checked(merge_rows_s8(ptr(a), tensorDim(a, 0), rowBytes, ptr(b), ptr(c), tensorDim(c, 0), ptr(out)), c);
    }
  }
  return Status.BAD_OP;
}

/**
 * x: saved input, dy: dL/d(pre-clamp output), w: the TRAINABLE filter (with compact rows, UPDATE_FLAGS
 * bit 3, only the selected channels' rows), sel: output channels.
 */
function weightUpdate(k: u32, x: u32, dy: u32, w: u32, sel: u32, p0: i32, p1: i32, p2: i32, p3: i32): i32 {
  const lr = reinterpret<f32>(opParam(k, 4)) * rateScale, flags = opParam(k, 5); // UPDATE_FLAGS: bits 0 nearest rounding, 1 no QAS, 2 carry, 3 compact rows
  const momentum = reinterpret<f32>(opParam(k, 6)), state = ptr(opScratch(k)); // state 0: none (plain SGD)
  const xp = ptr(x), gp = ptr(dy), wp = ptr(w), sp = ptr(sel), n = tensorDim(sel, 0);
  const xZp = tensorZeroPoint(x), xScale = tensorScale(x), scales = scalesOf(w);
  const ih = tensorDim(x, 1), iw = tensorDim(x, 2), oh = tensorDim(dy, 1), ow = tensorDim(dy, 2);
  switch (opCode(k)) {
    case Op.CONV2D_UPDATE: {
      const ic = tensorDim(x, 3), oc = tensorDim(dy, 3), kh = tensorDim(w, 1), kw = tensorDim(w, 2);
      return ASC_FEATURE_SIMD
        ? conv2d_update_s8_simd(xp, ih, iw, ic, xZp, xScale, gp, oh, ow, oc, wp, kh, kw, scales, 0, p0, p1, p2, p3, sp, n, lr, 0, momentum, state, 0, flags)
        : conv2d_update_s8(xp, ih, iw, ic, xZp, xScale, gp, oh, ow, oc, wp, kh, kw, scales, 0, p0, p1, p2, p3, sp, n, lr, 0, momentum, state, 0, flags);
    }
    case Op.DEPTHWISE_CONV2D_UPDATE: {
      const ch = tensorDim(x, 3), kh = tensorDim(w, 1), kw = tensorDim(w, 2);
      return depthwise_conv2d_update_s8(xp, ih, iw, ch, xZp, xScale, gp, oh, ow, wp, kh, kw, scales, 0, p0, p1, p2, p3, sp, n, lr, 0, momentum, state, 0, flags);
    }
  }
  const outC = tensorDim(dy, tensorRank(dy) - 1), inC = tensorDim(w, tensorRank(w) - 1), rows = tensorElements(x) / inC;
  return ASC_FEATURE_SIMD
    ? fully_connected_update_s8_simd(xp, rows, inC, xZp, xScale, gp, outC, wp, scales, 0, sp, n, lr, 0, momentum, state, 0, flags)
    : fully_connected_update_s8(xp, rows, inC, xZp, xScale, gp, outC, wp, scales, 0, sp, n, lr, 0, momentum, state, 0, flags);
}
