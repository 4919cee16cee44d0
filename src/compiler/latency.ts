// Latency estimate of a compiled model on a board: for each op,
//   cycles = MACs / macsPerCycle[kind] + elements x cyclesPerElement[kind] + opOverheadCycles
// with the device profile's figures (src/compiler/devices.ts, docs/devices.md). The work
// counts come from the container's records alone, so any container can be estimated.

import type { ContainerModel } from '../formats/container_types.js';
import { NO_TENSOR, Op } from '../formats/schema.js';
import type { DeviceProfile } from './devices.js';
import type { LoweringReport } from './lower.js';

/** Kernel family, i.e. which device figure prices the op. */
export type WorkKind = 'conv' | 'depthwise' | 'pointwise' | 'fc' | 'add' | 'pool' | 'softmax' | 'convert' | 'none';

/** The work of one op, from its records. */
export interface OpWork {
  /** Position in the schedule. */
  index: number;
  op: Op;
  kind: WorkKind;
  /** Multiply-accumulates (MAC ops; 0 otherwise). */
  macs: number;
  /** Elements the non-MAC part touches: ADD outputs, pool window taps, softmax/convert elements. */
  elements: number;
  /** Output elements; MAC ops requantize each one. */
  outputs: number;
}

const KIND: Record<Op, WorkKind> = {
  [Op.CONV2D]: 'conv',
  [Op.DEPTHWISE_CONV2D]: 'depthwise',
  [Op.CONV1X1]: 'pointwise',
  [Op.FULLY_CONNECTED]: 'fc',
  [Op.ADD]: 'add',
  [Op.AVG_POOL]: 'pool',
  [Op.MAX_POOL]: 'pool',
  [Op.GLOBAL_AVG_POOL]: 'pool',
  [Op.RESHAPE]: 'none',
  [Op.SOFTMAX]: 'softmax',
  [Op.QUANTIZE]: 'convert',
  [Op.DEQUANTIZE]: 'convert',
  [Op.SPARSE_CONV1X1]: 'pointwise',
  [Op.SPARSE_FULLY_CONNECTED]: 'fc',
  // train-step ops: backward and update MACs priced like the forward kernels of their kind
  // (fp32 MACs at the int8 scalar rate: Cortex-M4F/M7 have single-cycle FPU MACs); the
  // elementwise ones per element like ADD
  [Op.CONV2D_BACKWARD_INPUT]: 'conv', [Op.DEPTHWISE_CONV2D_BACKWARD_INPUT]: 'depthwise', [Op.FULLY_CONNECTED_BACKWARD_INPUT]: 'fc',
  [Op.CONV2D_UPDATE]: 'conv', [Op.DEPTHWISE_CONV2D_UPDATE]: 'depthwise', [Op.FULLY_CONNECTED_UPDATE]: 'fc',
  [Op.RELU_MASK]: 'add', [Op.APPLY_MASK]: 'add', [Op.SOFTMAX_CE_LOSS]: 'softmax', [Op.SOFTMAX_CE_GRAD]: 'softmax',
  [Op.GLOBAL_AVG_POOL_BACKWARD]: 'add', [Op.BIAS_UPDATE]: 'add', [Op.MSE_LOSS]: 'add', [Op.MSE_GRAD]: 'add',
  [Op.AVG_POOL_BACKWARD]: 'pool', [Op.MAX_POOL_BACKWARD]: 'pool', [Op.GRADIENT_ADD]: 'add',
  // the fused pair, priced as pointwise (the expand's MACs dominate at MobileNetV2's widths)
  [Op.EXPAND_DEPTHWISE]: 'pointwise',
  // a copy of the whole filter, priced per byte like an elementwise op
  [Op.MERGE_ROWS]: 'add',
};

const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** MACs and element counts of every op of a container (shapes as docs/format.md defines them). */
export function opWork(container: ContainerModel): OpWork[] {
  return container.ops.map((r, index) => {
    const x = container.tensors[r.inputs[0]].shape;
    const w = r.inputs.length > 1 ? container.tensors[r.inputs[1]]?.shape : undefined;
    // update ops write no output: they are priced by what they read
    const outputs = r.output === NO_TENSOR ? 0 : count(container.tensors[r.output].shape);
    const firstInput = count(x); // dy for backward ops
    let macs = 0;
    let elements = 0;
    switch (r.op) {
      case Op.CONV2D: // w [Co, kH, kW, Ci]: each output sums kH*kW*Ci products
        macs = outputs * w![1] * w![2] * w![3];
        break;
      case Op.DEPTHWISE_CONV2D: // w [1, kH, kW, C]: each output sums kH*kW products
        macs = outputs * w![1] * w![2];
        break;
      case Op.CONV1X1:
      case Op.FULLY_CONNECTED: // w [Co, ..., Ci]: Ci products per output
        macs = outputs * w![w!.length - 1];
        break;
      case Op.SPARSE_CONV1X1:
      case Op.SPARSE_FULLY_CONNECTED: { // the blob's non-zero groups x g products per row
        const t = container.tensors[r.inputs[1]];
        const blob = new DataView(container.data.buffer, container.data.byteOffset + t.offset, t.bytes);
        const [g, outC, groups] = [blob.getUint16(0, true), blob.getUint32(4, true), blob.getUint32(12, true)];
        macs = (outputs / outC) * groups * g;
        break;
      }
      case Op.CONV2D_BACKWARD_INPUT: // every dy element spreads over kH*kW*Ci inputs
        macs = firstInput * w![1] * w![2] * w![3];
        break;
      case Op.DEPTHWISE_CONV2D_BACKWARD_INPUT:
        macs = firstInput * w![1] * w![2];
        break;
      case Op.FULLY_CONNECTED_BACKWARD_INPUT:
        macs = firstInput * w![w!.length - 1];
        break;
      case Op.CONV2D_UPDATE: case Op.DEPTHWISE_CONV2D_UPDATE: case Op.FULLY_CONNECTED_UPDATE: {
        // inputs: x, dy, w, selected: rows x selected channels x (taps of one channel's filter);
        // w may hold only the selected rows (compact rows), so channels come from dy
        const wd = container.tensors[r.inputs[2]].shape, gd = container.tensors[r.inputs[1]].shape;
        const outC = gd[gd.length - 1];
        const selected = count(container.tensors[r.inputs[3]].shape);
        const perChannel = r.op === Op.DEPTHWISE_CONV2D_UPDATE ? wd[1] * wd[2] : count(wd) / wd[0];
        macs = (count(gd) / outC) * selected * perChannel;
        break;
      }
      case Op.EXPAND_DEPTHWISE: // every pixel of x expanded to Ce channels (scratch [1,R,W,Ce]), then kH*kW products per output
        macs = count(x) * container.tensors[r.scratch].shape[3] + outputs * r.params[6] * r.params[7];
        break;
      case Op.AVG_POOL_BACKWARD: case Op.MAX_POOL_BACKWARD:
        elements = firstInput * r.params[0] * r.params[1];
        break;
      case Op.AVG_POOL:
      case Op.MAX_POOL:
        elements = outputs * r.params[0] * r.params[1];
        break;
      case Op.GLOBAL_AVG_POOL:
        elements = count(x);
        break;
      case Op.RESHAPE:
        break;
      default: // ADD, SOFTMAX, QUANTIZE, DEQUANTIZE, masks, losses, gradient adds: one step per element
        elements = Math.max(outputs, firstInput);
    }
    return { index, op: r.op, kind: KIND[r.op], macs, elements, outputs };
  });
}

export interface OpLatency extends OpWork {
  cycles: number;
  us: number;
}

export interface LatencyEstimate {
  device: string;
  totalCycles: number;
  totalUs: number;
  perOp: OpLatency[];
}

/** Cycles of one op on `device`. */
export function opCycles(w: OpWork, device: DeviceProfile): number {
  const e = device.cyclesPerElement;
  let cycles = device.opOverheadCycles;
  switch (w.kind) {
    case 'conv': case 'depthwise': case 'pointwise': case 'fc':
      cycles += w.macs / device.macsPerCycle[w.kind] + w.outputs * e.requant;
      break;
    case 'add': cycles += w.elements * e.add; break;
    case 'pool': cycles += w.elements * e.pool; break;
    case 'softmax': cycles += w.elements * e.softmax; break;
    case 'convert': cycles += w.elements * e.convert; break;
    case 'none': break;
  }
  return cycles;
}

/** Estimated time of one inference on `device`, from a lowering report or any container. */
export function estimateLatency(source: LoweringReport | ContainerModel, device: DeviceProfile): LatencyEstimate {
  const work = 'tensors' in source ? opWork(source) : source.ops;
  const perOp = work.map((w) => {
    const cycles = opCycles(w, device);
    return { ...w, cycles, us: (cycles / device.clockHz) * 1e6 };
  });
  const totalCycles = perOp.reduce((s, o) => s + o.cycles, 0);
  return { device: device.name, totalCycles, totalUs: (totalCycles / device.clockHz) * 1e6, perOp };
}
