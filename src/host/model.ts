// A compiled model: the container's bytes plus their validated image. What a Session runs.
import { readContainer, writeContainer } from '../formats/container.js';
import type { ContainerModel, TensorRecord } from '../formats/container_types.js';
import type { DTypeName, QModel } from '../formats/qmodel.js';
import { DTYPE_NAMES } from '../formats/dtypes.js';
import { lowerModel, type LowerOptions, type LoweringReport } from '../compiler/lower.js';

export type { DTypeName as TensorDType } from '../formats/qmodel.js';

/** A graph input or output as a caller sees it. */
export interface TensorInfo {
  name: string;
  index: number;
  shape: number[];
  dtype: DTypeName;
  /** Quantization of int8 tensors; 0 / 0 for float32. */
  scale: number;
  zeroPoint: number;
  bytes: number;
}


export class Model {
  /** The container file (flash image). */
  readonly bytes: Uint8Array;
  readonly container: ContainerModel;
  /** Present when the model was compiled in this process. */
  readonly report?: LoweringReport;

  private constructor(bytes: Uint8Array, container: ContainerModel, report?: LoweringReport) {
    this.bytes = bytes;
    this.container = container;
    this.report = report;
  }

  /** Validates a container file; throws FormatError naming what is wrong and where. */
  static fromBytes(bytes: Uint8Array): Model {
    return new Model(bytes, readContainer(bytes));
  }

  /** Compiles a quantized model for a device: lowering (dense or sparse per layer), memory plan, container. */
  static compile(model: QModel, options: LowerOptions = {}): Model {
    const { container, report } = lowerModel(model, options);
    const bytes = writeContainer(container);
    return new Model(bytes, container, report);
  }

  get name(): string {
    const name = this.container.meta?.['model'];
    return typeof name === 'string' ? name : 'model';
  }

  get inputs(): TensorInfo[] {
    return this.container.plan.inputs.map((i) => this.info(i));
  }

  get outputs(): TensorInfo[] {
    return this.container.plan.outputs.map((i) => this.info(i));
  }

  /** Planned SRAM: the arena's exact peak in bytes. */
  get arenaBytes(): number {
    return this.container.plan.arenaBytes;
  }

  /** Flash: the whole container, read in place on the board. */
  get flashBytes(): number {
    return this.bytes.length;
  }

  private info(index: number): TensorInfo {
    const t: TensorRecord = this.container.tensors[index];
    return {
      name: this.container.names?.[index] ?? `t${index}`,
      index,
      shape: [...t.shape],
      dtype: DTYPE_NAMES[t.dtype],
      scale: t.scale,
      zeroPoint: t.zeroPoint,
      bytes: t.bytes,
    };
  }
}
