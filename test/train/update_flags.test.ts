// The recipe's rounding and qas switches reach the train-step container as every update op's
// UPDATE_FLAGS param (docs/format.md: bit 0 nearest, bit 1 no QAS, bit 2 carry, bit 3 compact
// rows on the weight updates of partly trained conv2d / fully connected layers), survive the
// container round trip, are refused outside 0..15 (and bit 3 where it has no meaning) by the
// host reader, and are accepted by the device (carry's own state and checks: carry_step.test.ts;
// compact rows: compact_rows.test.ts).
import { describe, expect, it } from 'vitest';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import type { Rounding, TrainRecipe } from '../../src/compiler/train/recipe.js';
import { OP_RULES, Param } from '../../src/formats/container_op_rules.js';
import { ContainerError, readContainer, writeContainer } from '../../src/formats/container.js';
import type { ContainerModel } from '../../src/formats/container_types.js';
import { Op } from '../../src/formats/schema.js';
import { Trainer } from '../../src/host/trainer.js';
import type { TrainableTensor } from '../../src/compiler/train/lower_train.js';
import { compactBit } from './compact_rows.js';
import { referenceCnnTask } from './reference_task.js';

const { qmodel, train, sample } = referenceCnnTask();
// a weight update of every kind (conv2d, depthwise, 1x1, fully connected) and biases
const EVERY_UPDATE: TrainRecipe = { biasLastK: 5, weights: ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'].map((layer) => ({ layer, ratio: 0.5 as const })) };

/** [op name, flags] of every op that has an UPDATE_FLAGS param. */
function updateFlagsOf(container: ContainerModel): [string, number][] {
  return container.ops.flatMap((op) => {
    const at = OP_RULES[op.op as Op].params.indexOf(Param.UPDATE_FLAGS);
    return at < 0 ? [] : [[Op[op.op], op.params[at]] as [string, number]];
  });
}

/** The flags each update op of `container` should carry: the recipe's, plus bit 3 where w holds compact rows. */
function expectedFlags(container: ContainerModel, trainables: TrainableTensor[], flags: number): number[] {
  return container.ops.filter((op) => OP_RULES[op.op as Op].params.includes(Param.UPDATE_FLAGS)).map((op) => flags | compactBit(trainables, op));
}

const COMBINATIONS: { rounding?: Rounding; qas?: boolean; flags: number }[] = [
  { flags: 0 }, // defaults: stochastic, QAS
  { rounding: 'nearest', flags: 1 },
  { qas: false, flags: 2 },
  { rounding: 'nearest', qas: false, flags: 3 },
];

describe('recipe rounding and qas -> UPDATE_FLAGS', () => {
  for (const { rounding, qas, flags } of COMBINATIONS) {
    it(`rounding ${rounding ?? '(default)'}, qas ${qas ?? '(default)'}: every update op carries flags ${flags}, also after a container round trip`, () => {
      const { container, report } = lowerTrainStep(qmodel, { ...EVERY_UPDATE, rounding, qas });
      const found = updateFlagsOf(container);
      expect(new Set(found.map(([name]) => name))).toEqual(new Set(['CONV2D_UPDATE', 'DEPTHWISE_CONV2D_UPDATE', 'FULLY_CONNECTED_UPDATE', 'BIAS_UPDATE']));
      expect(found.map(([, got]) => got)).toEqual(expectedFlags(container, report.trainables, flags));
      expect(found.filter(([, got]) => got & 8).length, 'updates on compact rows (conv1, pw1, pw2 at 1/2)').toBe(3);
      expect(updateFlagsOf(readContainer(writeContainer(container)))).toEqual(found);
    });
  }

  it('the host refuses flags outside 0..15, naming the param', () => {
    const { container } = lowerTrainStep(qmodel, EVERY_UPDATE);
    for (const bad of [16, -1]) {
      const op = container.ops.find((o) => o.op === Op.BIAS_UPDATE)!;
      const at = OP_RULES[Op.BIAS_UPDATE].params.indexOf(Param.UPDATE_FLAGS);
      const patched = { ...container, ops: container.ops.map((o) => (o === op ? { ...o, params: o.params.map((p, i) => (i === at ? bad : p)) } : o)) };
      expect(() => writeContainer(patched), `flags ${bad}`).toThrow(ContainerError);
      expect(() => writeContainer(patched), `flags ${bad}`).toThrow(/UPDATE_FLAGS\) = -?\d+ is out of range/);
    }
  });

  it('the device loads and steps every combination; QAS off moves the parameters otherwise than QAS on', async () => {
    const moved = new Map<number, Map<string, Int8Array | Int32Array>>();
    for (const { rounding, qas, flags } of COMBINATIONS) {
      const trainer = await Trainer.create(qmodel, { ...EVERY_UPDATE, rounding, qas, seed: 7 }, { build: 'mvp' });
      for (let i = 0; i < 3; i++) expect(Number.isFinite(trainer.step(sample(i), train.labels[i])), `flags ${flags} step ${i}`).toBe(true);
      moved.set(flags, trainer.trainedTensors());
    }
    for (const [on, off] of [[0, 2], [1, 3]]) {
      const differing = [...moved.get(on)!].filter(([name, t]) => t.some((v, i) => v !== moved.get(off)!.get(name)![i]));
      expect(differing.length, `flags ${on} vs ${off}: no trained tensor differs`).toBeGreaterThan(0);
    }
  });
});
