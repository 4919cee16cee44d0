// Latency estimate of a compiled model on a board: for each op,
//   cycles = MACs / macsPerCycle[kind] + elements x cyclesPerElement[kind] + opOverheadCycles
// with the device profile's figures (src/compiler/devices.ts, docs/devices.md). The work
// counts come from the container's records alone, so any container can be estimated.

import type { ContainerModel } from '../formats/container_types.js';
import { Op } from '../formats/schema.js';
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
  // train-step ops: not priced by the inference latency model
  [Op.RELU_MASK]: 'none', [Op.APPLY_MASK]: 'none', [Op.SOFTMAX_CE_LOSS]: 'none', [Op.SOFTMAX_CE_GRAD]: 'none',
  [Op.CONV2D_BACKWARD_INPUT]: 'none', [Op.DEPTHWISE_CONV2D_BACKWARD_INPUT]: 'none', [Op.FULLY_CONNECTED_BACKWARD_INPUT]: 'none',
  [Op.GLOBAL_AVG_POOL_BACKWARD]: 'none', [Op.CONV2D_UPDATE]: 'none', [Op.DEPTHWISE_CONV2D_UPDATE]: 'none',
  [Op.FULLY_CONNECTED_UPDATE]: 'none', [Op.BIAS_UPDATE]: 'none', [Op.MSE_LOSS]: 'none', [Op.MSE_GRAD]: 'none',
  [Op.AVG_POOL_BACKWARD]: 'none', [Op.MAX_POOL_BACKWARD]: 'none', [Op.GRADIENT_ADD]: 'none',
};

const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** MACs and element counts of every op of a container (shapes as docs/format.md defines them). */
export function opWork(container: ContainerModel): OpWork[] {
  return container.ops.map((r, index) => {
    const x = container.tensors[r.inputs[0]].shape;
    const w = r.inputs.length > 1 ? container.tensors[r.inputs[1]]?.shape : undefined;
    const outputs = count(container.tensors[r.output].shape);
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
      case Op.AVG_POOL:
      case Op.MAX_POOL:
        elements = outputs * r.params[0] * r.params[1];
        break;
      case Op.GLOBAL_AVG_POOL:
        elements = count(x);
        break;
      case Op.RESHAPE:
        break;
      default: // ADD, SOFTMAX, QUANTIZE, DEQUANTIZE: one step per output element
        elements = outputs;
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
