// On-device training from the host: a Trainer compiles one train step of an int8 model
// (lowerTrainStep), loads it into the training executor (build/sparrow-train.{mvp,simd}.wasm)
// inside a device's SRAM budget, and runs it once per sample. The trained weights live in the
// executor's arena (TRAINABLE tensors); export() reads them back into an inference Model.
import { getDevice, sramBudget, type DeviceProfile } from '../compiler/devices.js';
import type { StepFuseMode } from '../compiler/lower_fuse_train.js';
import { lowerTrainStep, type StepInput, type TrainStepReport } from '../compiler/train/lower_train.js';
import type { TrainRecipe } from '../compiler/train/recipe.js';
import { writeContainer } from '../formats/container.js';
import { BudgetError, DeviceError, ShapeError, ValueError } from '../formats/errors.js';
import type { QModel } from '../formats/qmodel.js';
import { Status } from '../formats/schema.js';
import { Model } from './model.js';
import { bestBuild, categoryPeaks, instantiateExecutor, type Build, type ExecutorExports, type WasmSource } from './runtime.js';
import { Session } from './session.js';

/** The training executor's exports: the inference ABI plus src/train/index.ts's additions. */
export interface TrainExecutorExports extends ExecutorExports {
  prng_seed(seed: number): void;
  set_rate_scale(scale: number): number;
  tensor_ptr(t: number): number;
}

export interface TrainerOptions {
  /** Device profile or its name; default `stm32f746`. The step must fit its SRAM budget. */
  device?: DeviceProfile | string;
  /** `auto` (default) picks `simd` where the host supports SIMD128. */
  build?: Build | 'auto';
  /** Overrides where the training executor's .wasm comes from. */
  wasm?: WasmSource;
  /**
   * `float32` (default): samples are Float32Array, quantized on the device. `int8`: samples are
   * Int8Array, already quantized with the scale and zero point of the model's QUANTIZE output
   * (as a camera pipeline delivers them); the step then holds no float32 sample in SRAM.
   */
  input?: StepInput;
  /** Frozen expand -> depthwise pairs streamed (lowerTrainStep): `auto` (default) when the unstreamed step does not fit the device. */
  fuse?: StepFuseMode;
  /** Internal (equivalence tests): layers trained at ratio < 1 keep their whole filter in SRAM (lowerTrainStep's wholeFilters). */
  wholeFilters?: boolean;
}

/** Samples packed one after another (as src/host/datasets/mnist.ts's LabeledSet). */
export interface Dataset {
  /** Float32Array, or Int8Array for a Trainer with `input: 'int8'`. */
  images: Float32Array | Int8Array;
  /** Classes (softmax cross-entropy), or for MSE `count` target vectors packed one after another. */
  labels: ArrayLike<number>;
  count: number;
}

export interface TrainMemoryUse {
  device: string;
  budgetBytes: number;
  /** The compiler's arena for one step. */
  plannedBytes: number;
  /** The highest byte in use the plan predicts, and what the executor measured in the last step. */
  plannedHighWaterBytes: number;
  highWaterBytes: number;
  /** Per category, the most bytes live at once in the last step (only non-zero ones). */
  byCategory: Record<string, number>;
  /** The train-step container in flash. */
  flashBytes: number;
}

const compiled = new Map<Build, Promise<WebAssembly.Module>>();

function trainModule(build: Build): Promise<WebAssembly.Module> {
  let m = compiled.get(build);
  if (!m) {
    m = (async () => {
      const { readFile } = await import('node:fs/promises');
      return WebAssembly.compile(await readFile(new URL(`../../build/sparrow-train.${build}.wasm`, import.meta.url)));
    })();
    compiled.set(build, m);
  }
  return m;
}

export class Trainer {
  readonly device: DeviceProfile;
  readonly build: Build;
  /** What the compiler planned: memory, trainable tensors, op counts. */
  readonly report: TrainStepReport;
  /** The train-step container. */
  readonly bytes: Uint8Array;
  private readonly qmodel: QModel;
  private readonly exec: TrainExecutorExports;
  /** The step's first input in the arena: float32, or int8 with `input: 'int8'`. */
  private readonly sample: Float32Array | Int8Array;
  /** The step's second input: the class (softmax cross-entropy) or the target vector (MSE). */
  private readonly label: Int32Array | Float32Array;
  private readonly loss: Float32Array;
  private steps = 0;

  private constructor(qmodel: QModel, device: DeviceProfile, build: Build, report: TrainStepReport, bytes: Uint8Array, exec: TrainExecutorExports) {
    this.qmodel = qmodel;
    this.device = device;
    this.build = build;
    this.report = report;
    this.bytes = bytes;
    this.exec = exec;
    // The arena never moves after load: these views stay valid.
    this.sample = report.input === 'int8'
      ? new Int8Array(exec.memory.buffer, exec.input_ptr(0) >>> 0, exec.input_bytes(0))
      : new Float32Array(exec.memory.buffer, exec.input_ptr(0) >>> 0, exec.input_bytes(0) / 4);
    this.label = report.recipe.loss === 'mse'
      ? new Float32Array(exec.memory.buffer, exec.input_ptr(1) >>> 0, exec.input_bytes(1) / 4)
      : new Int32Array(exec.memory.buffer, exec.input_ptr(1) >>> 0, 1);
    this.loss = new Float32Array(exec.memory.buffer, exec.output_ptr(0) >>> 0, 1);
  }

  /**
   * Compiles the train step of `qmodel` under `recipe` and loads it. Throws RecipeError for a
   * bad recipe, BudgetError when the step does not fit the device, DeviceError if the executor
   * refuses the container.
   */
  static async create(qmodel: QModel, recipe: TrainRecipe, options: TrainerOptions = {}): Promise<Trainer> {
    const device = typeof options.device === 'object' ? options.device : getDevice(options.device ?? 'stm32f746');
    const build = !options.build || options.build === 'auto' ? bestBuild() : options.build;
    const { container, report } = lowerTrainStep(qmodel, recipe, { device, input: options.input, fuse: options.fuse, wholeFilters: options.wholeFilters });
    const bytes = writeContainer(container);
    const exec = (options.wasm !== undefined
      ? await instantiateExecutor(build, options.wasm)
      : (await WebAssembly.instantiate(await trainModule(build), {})).exports) as unknown as TrainExecutorExports;
    const ptr = exec.container_buffer(bytes.length) >>> 0;
    if (ptr === 0) throw new DeviceError(`the training executor could not reserve ${bytes.length} B for the container`, Status.OUT_OF_MEMORY);
    new Uint8Array(exec.memory.buffer, ptr, bytes.length).set(bytes);
    const budget = sramBudget(device);
    const status = exec.load(bytes.length, budget);
    if (status === Status.OVER_BUDGET) throw new BudgetError(`train step of ${report.model} on ${device.name}`, exec.arena_bytes() >>> 0, budget);
    if (status !== Status.OK) throw new DeviceError(`the training executor refused the container: ${Status[status] ?? status} (detail ${exec.error_detail()})`, status);
    exec.prng_seed(report.recipe.seed);
    return new Trainer(qmodel, device, build, report, bytes, exec);
  }

  /**
   * One train step on one sample (Float32Array, or Int8Array with `input: 'int8'`; the model's
   * input size) and its class (softmax cross-entropy) or target vector (MSE, one value per
   * output); returns the loss before the update.
   */
  step(sample: Float32Array | Int8Array, label: number | ArrayLike<number>): number {
    if (!(sample instanceof this.sample.constructor)) {
      throw new ShapeError(`this trainer takes ${this.report.input} samples (${this.sample.constructor.name}), got ${sample?.constructor?.name ?? typeof sample}`);
    }
    if (sample.length !== this.sample.length) throw new ShapeError(`a sample has ${this.sample.length} values, got ${sample.length}`);
    this.sample.set(sample as never);
    if (this.label instanceof Float32Array) {
      if (typeof label === 'number' || label.length !== this.label.length) throw new ShapeError(`an MSE target has ${this.label.length} values, got ${typeof label === 'number' ? 'a number' : label.length}`);
      this.label.set(label);
    } else {
      if (typeof label !== 'number' || !Number.isInteger(label)) throw new ShapeError(`a label is a class index, got ${label}`);
      this.label[0] = label;
    }
    const status = this.exec.run();
    if (status === Status.BAD_INPUT) throw new ValueError(`train step ${this.steps}: op ${this.exec.error_op()} met a non-finite value or a label outside the classes (got ${typeof label === 'number' ? label : 'a target'})`);
    if (status !== Status.OK) throw new DeviceError(`train step failed at op ${this.exec.error_op()}: ${Status[status] ?? status}`, status);
    this.steps++;
    return this.loss[0];
  }

  /**
   * Multiplies the recipe's learning rates (weights and biases) by `scale` from the next step
   * on, e.g. a decay per epoch; the trained tensors and the momentum or carry state stay as they
   * are (no reload). 1 after create.
   */
  setRateScale(scale: number): void {
    if (!(Number.isFinite(scale) && scale >= 0)) throw new ValueError(`a learning-rate scale is a finite number >= 0, got ${scale}`);
    const status = this.exec.set_rate_scale(scale);
    if (status !== Status.OK) throw new DeviceError(`the training executor refused the rate scale ${scale}: ${Status[status] ?? status}`, status);
  }

  /** One pass over `data` in its order; `onStep(i, loss)` after each sample. Returns the mean loss. */
  trainEpoch(data: Dataset, options: { onStep?: (index: number, loss: number) => void } = {}): number {
    const n = this.sample.length;
    let sum = 0;
    for (let i = 0; i < data.count; i++) {
      const t = this.label.length;
      const target = this.label instanceof Float32Array ? Array.prototype.slice.call(data.labels, i * t, (i + 1) * t) : data.labels[i];
      const loss = this.step(data.images.subarray(i * n, (i + 1) * n), target);
      sum += loss;
      options.onStep?.(i, loss);
    }
    return data.count ? sum / data.count : NaN;
  }

  /** Accuracy of the current weights on `data` (inference on the exported model, same build). */
  async evaluate(data: Dataset): Promise<{ accuracy: number; count: number }> {
    const session = await Session.create(this.export(), { device: this.device, build: this.build });
    const n = this.sample.length;
    let correct = 0;
    for (let i = 0; i < data.count; i++) {
      const [logits] = session.run(data.images.slice(i * n, (i + 1) * n));
      let best = 0;
      for (let c = 1; c < logits.length; c++) if (logits[c] > logits[best]) best = c;
      if (best === data.labels[i]) correct++;
    }
    return { accuracy: data.count ? correct / data.count : NaN, count: data.count };
  }

  /**
   * The trained tensors' current values, by QModel tensor name (read from the arena), whole:
   * compact rows are scattered back over their channels of the QModel filter.
   */
  trainedTensors(): Map<string, Int8Array | Int32Array> {
    const out = new Map<string, Int8Array | Int32Array>();
    for (const t of this.report.trainables) {
      const ptr = this.exec.tensor_ptr(t.tensor) >>> 0;
      const bytes = new Uint8Array(this.exec.memory.buffer, ptr, t.bytes).slice();
      if (t.rows) out.set(t.source, this.scatterRows(t.source, new Int8Array(bytes.buffer), t.rows));
      else out.set(t.source, t.dtype === 'int8' ? new Int8Array(bytes.buffer) : new Int32Array(bytes.buffer));
    }
    return out;
  }

  /** The QModel filter `source` with `rows` (row i: channel channels[i]) over their channels. */
  private scatterRows(source: string, rows: Int8Array, channels: number[]): Int8Array {
    const whole = Int8Array.from(this.qmodel.tensors.find((x) => x.name === source)!.data!);
    const rowBytes = rows.length / channels.length;
    channels.forEach((c, i) => whole.set(rows.subarray(i * rowBytes, (i + 1) * rowBytes), c * rowBytes));
    return whole;
  }

  /** The model with the trained weights, as a QModel and compiled for inference. */
  exportQModel(): QModel {
    const trained = this.trainedTensors();
    return { ...this.qmodel, tensors: this.qmodel.tensors.map((t) => (trained.has(t.name) ? { ...t, data: Array.from(trained.get(t.name)!) } : t)) };
  }

  /** The trained model compiled for inference, taking the same kind of sample as the steps. */
  export(): Model {
    return Model.compile(this.exportQModel(), { sparse: 'never', input: this.report.input });
  }

  memory(): TrainMemoryUse {
    return {
      device: this.device.name,
      budgetBytes: sramBudget(this.device),
      plannedBytes: this.report.arenaBytes,
      plannedHighWaterBytes: this.report.highWaterBytes,
      highWaterBytes: this.exec.high_water() >>> 0,
      byCategory: categoryPeaks(this.exec),
      flashBytes: this.bytes.length,
    };
  }
}
