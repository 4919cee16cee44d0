// A Session binds one compiled Model to one executor instance inside a device's SRAM budget
// and runs inference. The same code runs in Node and in browsers.
import { BudgetError, DeviceError, ShapeError, ValueError } from '../formats/errors.js';
import { Status } from '../formats/schema.js';
import { getDevice, sramBudget, type DeviceProfile } from '../compiler/devices.js';
import { Model, type TensorInfo } from './model.js';
import { bestBuild, categoryPeaks, instantiateExecutor, type Build, type ExecutorExports, type WasmSource } from './runtime.js';

export type TensorData = Float32Array | Int8Array | Int32Array | Uint8Array;

export interface SessionOptions {
  /** Device profile or its name; default `stm32f746`. Sets the SRAM budget of the arena. */
  device?: DeviceProfile | string;
  /** `auto` (default) picks `simd` where the host supports SIMD128. */
  build?: Build | 'auto';
  /** Overrides where the executor's .wasm comes from. */
  wasm?: WasmSource;
}

export interface MemoryReport {
  device: string;
  /** SRAM the device grants the arena: its SRAM minus the runtime's reserve. */
  budgetBytes: number;
  /** The compiler's plan: exact arena peak. */
  plannedBytes: number;
  /** Measured by the executor over the runs so far. */
  highWaterBytes: number;
  /** Bytes live at the high-water mark, by category (only non-zero ones). */
  byCategory: Record<string, number>;
  /** The container in flash. */
  flashBytes: number;
}

const ARRAY_TYPES = { int8: Int8Array, int32: Int32Array, float32: Float32Array, uint8: Uint8Array } as const;

export class Session {
  readonly model: Model;
  readonly device: DeviceProfile;
  readonly build: Build;
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  private readonly exec: ExecutorExports;
  /** Views of the graph I/O buffers inside the arena; memory never grows after load. */
  private readonly inputViews: TensorData[];
  private readonly outputViews: TensorData[];

  private constructor(model: Model, device: DeviceProfile, build: Build, exec: ExecutorExports) {
    this.model = model;
    this.device = device;
    this.build = build;
    this.exec = exec;
    this.inputs = model.inputs;
    this.outputs = model.outputs;
    const view = (info: TensorInfo, ptr: number) => new ARRAY_TYPES[info.dtype](exec.memory.buffer, ptr >>> 0, info.shape.reduce((a, b) => a * b, 1));
    this.inputViews = this.inputs.map((info, i) => view(info, exec.input_ptr(i)));
    this.outputViews = this.outputs.map((info, i) => view(info, exec.output_ptr(i)));
  }

  /** Loads `model` onto a fresh executor. Throws BudgetError when its plan does not fit the device. */
  static async create(model: Model | Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const m = model instanceof Model ? model : Model.fromBytes(model);
    const device = typeof options.device === 'object' ? options.device : getDevice(options.device ?? 'stm32f746');
    const build = !options.build || options.build === 'auto' ? bestBuild() : options.build;
    const budget = sramBudget(device);
    if (m.arenaBytes > budget) {
      throw new BudgetError(`model ${m.name} on ${device.name}`, m.arenaBytes, budget, m.report?.plan.peakBuffers ?? []);
    }
    const exec = await instantiateExecutor(build, options.wasm);
    const ptr = exec.container_buffer(m.bytes.length) >>> 0;
    if (ptr === 0) throw new DeviceError(`the executor could not reserve ${m.bytes.length} B for the container`, Status.OUT_OF_MEMORY);
    new Uint8Array(exec.memory.buffer, ptr, m.bytes.length).set(m.bytes);
    const status = exec.load(m.bytes.length, budget);
    if (status !== Status.OK) {
      throw new DeviceError(`the executor refused the container: ${Status[status] ?? status} (detail ${exec.error_detail()})`, status);
    }
    return new Session(m, device, build, exec);
  }

  /**
   * Runs the model once. `inputs` holds one array per graph input (or the array itself for a
   * single input), of the input's dtype and element count. Returns fresh copies of the outputs.
   */
  run(inputs: TensorData | TensorData[]): TensorData[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const infos = this.inputs;
    if (list.length !== infos.length) throw new ShapeError(`${this.model.name} takes ${infos.length} input(s), got ${list.length}`);
    for (let i = 0; i < infos.length; i++) this.writeInput(i, infos[i], list[i]);
    const status = this.exec.run();
    if (status === Status.BAD_INPUT) throw new ValueError(`${this.nonFiniteInput(list)} (op ${this.exec.error_op()})`);
    if (status !== Status.OK) throw new DeviceError(`run failed at op ${this.exec.error_op()}: ${Status[status] ?? status}`, status);
    return this.outputViews.map((view) => view.slice());
  }

  memory(): MemoryReport {
    return {
      device: this.device.name,
      budgetBytes: sramBudget(this.device),
      plannedBytes: this.exec.arena_bytes() >>> 0,
      highWaterBytes: this.exec.high_water() >>> 0,
      byCategory: categoryPeaks(this.exec),
      flashBytes: this.model.flashBytes,
    };
  }

  private writeInput(i: number, info: TensorInfo, data: TensorData): void {
    const view = this.inputViews[i];
    if (!(data instanceof view.constructor)) {
      throw new ShapeError(`input ${info.name} is ${info.dtype} [${info.shape}], got ${data?.constructor?.name ?? typeof data}`);
    }
    if (data.length !== view.length) throw new ShapeError(`input ${info.name} has ${view.length} elements [${info.shape}], got ${data.length}`);
    view.set(data as never);
  }

  /** Names the first non-finite input value (the device only says that there is one). */
  private nonFiniteInput(list: TensorData[]): string {
    for (let i = 0; i < list.length; i++) {
      const j = Array.prototype.findIndex.call(list[i], (v: number) => !Number.isFinite(v));
      if (j >= 0) return `input ${this.inputs[i].name}[${j}] is ${list[i][j]}`;
    }
    return 'an input holds a non-finite value';
  }
}
