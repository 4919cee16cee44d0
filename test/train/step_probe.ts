// Reads what the training executor holds in the middle of a train step: the container's ops cut
// after op k, with the tensor op k writes as the only graph output, run once on a fresh instance.
// Cutting the schedule only shortens lifetimes, so the plan's offsets stay valid and the value
// read is the one the full step computes at op k (bit for bit: same kernels, same inputs).

import { readFileSync } from 'node:fs';
import { writeContainer } from '../../src/formats/container.js';
import type { ContainerModel } from '../../src/formats/container_types.js';
import { DType, NO_TENSOR, Status } from '../../src/formats/schema.js';
import { loadInto, NO_BUDGET, setInput, type Build } from '../helpers/device.js';
import type { TrainExecutorExports } from '../../src/host/trainer.js';

const modules = new Map<Build, WebAssembly.Module>();

export function trainExecutor(build: Build): TrainExecutorExports {
  let m = modules.get(build);
  if (!m) modules.set(build, (m = new WebAssembly.Module(readFileSync(new URL(`../../build/sparrow-train.${build}.wasm`, import.meta.url)))));
  return new WebAssembly.Instance(m, {}).exports as unknown as TrainExecutorExports;
}

export type Probed = Int8Array | Uint8Array | Int32Array | Float32Array;

/** The value op `k` of `container` writes, in one train step from the container's initial weights. */
/** `target`: the class (softmax cross-entropy) or the target vector (MSE). */
export function probeOp(container: ContainerModel, build: Build, k: number, sample: Float32Array, target: number | Float32Array, seed = 0): Probed {
  const out = container.ops[k].output;
  if (out === NO_TENSOR) throw new Error(`op ${k} writes no tensor`);
  const cut: ContainerModel = { ...container, ops: container.ops.slice(0, k + 1), plan: { ...container.plan, outputs: [out] } };
  const ex = trainExecutor(build);
  const loaded = loadInto(ex, writeContainer(cut), NO_BUDGET);
  if (loaded.status !== Status.OK) throw new Error(`cut at op ${k}: load ${Status[loaded.status]} (detail ${loaded.detail}, op ${loaded.op})`);
  ex.prng_seed(seed);
  setInput(ex, 0, sample);
  if (typeof target === 'number') new Int32Array(ex.memory.buffer, ex.input_ptr(1), 1)[0] = target;
  else setInput(ex, 1, target);
  const status = ex.run();
  if (status !== Status.OK) throw new Error(`cut at op ${k}: run ${Status[status]} at op ${ex.error_op()}`);
  const bytes = new Uint8Array(ex.memory.buffer, ex.output_ptr(0), ex.output_bytes(0)).slice();
  const dtype = container.tensors[out].dtype;
  if (dtype === DType.INT8) return new Int8Array(bytes.buffer);
  if (dtype === DType.INT32) return new Int32Array(bytes.buffer);
  if (dtype === DType.FLOAT32) return new Float32Array(bytes.buffer);
  return bytes;
}
