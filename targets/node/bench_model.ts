// Whole-model inference timing on both executor builds, as benchmark lines.
import { SingleBar, Presets } from 'cli-progress';
import { getDevice } from '../../src/compiler/devices.js';
import { Model } from '../../src/host/model.js';
import { Session, type TensorData } from '../../src/host/session.js';
import type { Build } from '../../src/host/runtime.js';

export interface BenchLine {
  what: string;
  build?: string;
  shape: string;
  median: number;
  min: number;
  max: number;
  unit: string;
}

/** Microseconds per call: `rounds` rounds of `perRound` calls each, after a warm-up. */
export function timeCalls(fn: () => void, rounds: number, perRound: number, onRound?: () => void): { median: number; min: number; max: number } {
  for (let i = 0; i < Math.max(200, perRound * 4); i++) fn(); // let the engine tier up before timing
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) fn();
    samples.push(((performance.now() - t0) * 1000) / perRound);
    onRound?.();
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0], max: samples[samples.length - 1] };
}

/** A deterministic input of the right dtype and size for every graph input. */
export function sampleInputs(model: Model): TensorData[] {
  return model.inputs.map((info) => {
    const n = info.shape.reduce((a, b) => a * b, 1);
    if (info.dtype === 'float32') return Float32Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 100);
    return Int8Array.from({ length: n }, (_, i) => ((i * 37) % 255) - 128);
  });
}

export async function benchModel(
  model: Model | undefined,
  options: { device?: string; runs?: number; progress?: boolean; builds?: Build[]; name?: string } = {},
): Promise<BenchLine[]> {
  const m = model ?? (await defaultModel());
  const device = getDevice(options.device ?? 'stm32f746');
  const runs = options.runs ?? 2000;
  const perRound = 50;
  const rounds = Math.max(5, Math.round(runs / perRound));
  const builds = options.builds ?? ['mvp', 'simd'];
  const bar = options.progress ? new SingleBar({ format: 'bench {build} [{bar}] {value}/{total} rounds', stream: process.stderr }, Presets.shades_classic) : undefined;
  const lines: BenchLine[] = [];
  for (const build of builds) {
    const session = await Session.create(m, { device, build });
    const inputs = sampleInputs(m);
    bar?.start(rounds, 0, { build });
    const t = timeCalls(() => session.run(inputs), rounds, perRound, () => bar?.increment());
    bar?.stop();
    lines.push({ what: `${options.name ?? m.name}/inference`, build, shape: `batch 1, input [${m.inputs[0].shape}]`, ...t, unit: 'us' });
  }
  return lines;
}

async function defaultModel(): Promise<Model> {
  const { referenceQModel } = await import('./reference.js');
  return Model.compile(referenceQModel('reference-cnn').qmodel, { device: getDevice('stm32f746') });
}
