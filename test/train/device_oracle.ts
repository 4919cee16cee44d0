// The sharp oracle of one device train step: the fp32 reference backward (runReferenceStep) run
// on the device's OWN forward. Every int8 activation is read from the training executor
// (step_probe.ts), dequantized, and given to the reference with the masks it implies
// (bit = actMin < q < actMax, so int8 saturation at the range ends passes no gradient either).
// What is left between the two is the fp32 summation order, so every gradient the device
// computes and every trained parameter are compared element by element.

import { expect } from 'vitest';
import { activationRange } from '../../src/compiler/quant_math.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { runReferenceStep, type GivenForward } from '../../src/compiler/train/reference_step.js';
import type { QModel } from '../../src/formats/qmodel.js';
import { NO_TENSOR, Op } from '../../src/formats/schema.js';
import { Trainer } from '../../src/host/trainer.js';
import type { Build } from '../helpers/device.js';
import { probeOp } from './step_probe.js';

/**
 * Tolerance of a value computed in f32 by two summation orders: 1e-4 of itself plus 1e-5 of
 * the largest value of its tensor (sums that nearly cancel keep the absolute error of their
 * large terms).
 */
export const tolerance = (value: number, largest: number) => 1e-4 * Math.abs(value) + 1e-5 * largest;
const largestOf = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

type Lowered = ReturnType<typeof lowerTrainStep>;

/** The device's int8 forward, dequantized, with the masks its clamps imply; keyed by node name. */
function deviceForward(q: QModel, { container }: Lowered, build: Build, x: Float32Array, target: number | Float32Array): Map<string, GivenForward> {
  const names = container.names!;
  const opOf = new Map(q.ops.map((o) => [o.outputs[0], o]));
  const forward = new Map<string, GivenForward>();
  container.ops.forEach((op, k) => {
    if (op.op >= Op.RELU_MASK || op.output === NO_TENSOR) return;
    const t = container.tensors[op.output];
    const name = names[op.output];
    const qv = probeOp(container, build, k, x, target) as Int8Array;
    const y = Float32Array.from(qv, (v) => t.scale * (v - t.zeroPoint));
    const [lo, hi] = activationRange(opOf.get(name)?.activation ?? 'none', t.scale, t.zeroPoint);
    const mask = new Uint8Array(Math.ceil(qv.length / 8));
    qv.forEach((v, i) => { if (lo < v && v < hi) mask[i >> 3] |= 1 << (i & 7); });
    forward.set(name, { y, mask });
  });
  return forward;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One step of `recipe` (nearest rounding is forced) on `build` against the oracle: every
 * dL/d(pre-clamp output) a BIAS_UPDATE reads, then every trained parameter. A parameter moves
 * by -round(lr * g / s) quanta (docs/training-math.md, QAS; s = s_w[c] for weights, s_x s_w[c]
 * for biases); it must equal the rounding of the reference's step, except where that step lies
 * within the tolerance of a rounding tie. Returns the number of tensors compared.
 */
export async function expectStepMatchesOracle(qmodel: QModel, recipe: TrainRecipe, build: Build, x: Float32Array, target: number | Float32Array, label: string): Promise<number> {
  recipe = { ...recipe, rounding: 'nearest' };
  const lowered = lowerTrainStep(qmodel, recipe);
  const { container, plan, graph, report } = lowered;
  const lr = report.recipe.learningRate;
  const ref = runReferenceStep(graph, report.recipe, plan, x, target, { forward: deviceForward(qmodel, lowered, build, x, target) });

  const sourceOf = new Map(report.trainables.map((t) => [t.tensor, t.source]));
  let gradients = 0;
  container.ops.forEach((op, k) => {
    if (op.op !== Op.BIAS_UPDATE) return;
    const node = qmodel.ops.find((o) => o.inputs[2] === sourceOf.get(op.inputs[1]))!.outputs[0];
    let writer = k - 1;
    while (container.ops[writer].output !== op.inputs[0]) writer--;
    const device = probeOp(container, build, writer, x, target) as Float32Array;
    const want = ref.dys.get(node)!;
    const largest = largestOf(want);
    expect(device.length, `${label} dL/d${node}`).toBe(want.length);
    want.forEach((w, i) => {
      if (!(Math.abs(device[i] - w) <= tolerance(w, largest))) expect.fail(`${label} dL/d${node}[${i}]: device ${device[i]}, reference ${w} (largest ${largest})`);
    });
    gradients++;
  });
  expect(gradients, `${label}: gradients compared`).toBe(report.recipe.layers.filter((l) => l.trainBias).length);

  const trainer = await Trainer.create(qmodel, recipe, { build });
  trainer.step(x, typeof target === 'number' ? target : target);
  const tensors = new Map(qmodel.tensors.map((t) => [t.name, t]));
  let compared = 0;
  for (const [name, now] of trainer.trainedTensors()) {
    const op = qmodel.ops.find((o) => o.inputs[1] === name || o.inputs[2] === name)!;
    const layer = report.recipe.layers.find((l) => l.layer === op.outputs[0])!;
    const was = tensors.get(name)!.data!;
    const wScales = tensors.get(op.inputs[1])!.quant!.scale;
    const sx = tensors.get(op.inputs[0])!.quant!.scale[0];
    const isBias = op.inputs[2] === name;
    const channels = wScales.length, perRow = was.length / channels;
    const channelOf = (i: number) => (isBias ? i : op.op === 'depthwise_conv2d' ? i % channels : Math.floor(i / perRow));
    const grad = ref.grads.get(name)!;
    const step = Array.from(grad, (g, i) => {
      const c = channelOf(i);
      return isBias || layer.channels.includes(c) ? ((isBias ? lr.bias : lr.weight) * g) / (isBias ? sx * wScales[c] : wScales[c]) : 0;
    });
    const largest = largestOf(step);
    const clamp = (v: number) => (isBias ? v : Math.max(-127, Math.min(127, v)));
    step.forEach((e, i) => {
      const want = clamp(was[i] - roundHalfEven(e));
      if (now[i] === want) return;
      const nearTie = Math.abs(Math.abs(e - Math.trunc(e)) - 0.5) <= tolerance(e, largest);
      const other = clamp(was[i] - roundHalfEven(e + Math.sign(e - roundHalfEven(e))));
      if (!nearTie || now[i] !== other) expect.fail(`${label} ${name}[${i}]: was ${was[i]}, device ${now[i]}, reference step ${e} -> ${want}`);
    });
    compared++;
  }
  expect(compared, `${label}: tensors compared`).toBe(report.trainables.length);
  return compared;
}
