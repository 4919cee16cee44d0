// Trainer.setRateScale (the executor's set_rate_scale): a learning-rate schedule without
// reloading the step, so trained tensors and momentum / carry state carry over.

import { describe, expect, it } from 'vitest';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { DeviceError, ValueError } from '../../src/formats/errors.js';
import { Trainer } from '../../src/host/trainer.js';
import { BUILDS } from '../helpers/device.js';
import { referenceCnnTask } from './reference_task.js';

const { qmodel, train, sample } = referenceCnnTask();
const RECIPE: TrainRecipe = { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.5 }, { layer: 'pw2', ratio: 1 }], learningRate: { weight: 0.02, bias: 0.02 }, seed: 5 };
const STEPS = 12;

async function trained(recipe: TrainRecipe, build: (typeof BUILDS)[number], scale?: number): Promise<Map<string, Int8Array | Int32Array>> {
  const trainer = await Trainer.create(qmodel, recipe, { build });
  if (scale !== undefined) trainer.setRateScale(scale);
  for (let i = 0; i < STEPS; i++) trainer.step(sample(i), train.labels[i]);
  return trainer.trainedTensors();
}

describe('learning-rate scale', () => {
  for (const build of BUILDS) {
    for (const rounding of ['stochastic', 'carry'] as const) {
      it(`${build}, ${rounding}: scale 0.5 trains exactly as rates halved in the recipe; scale 0 trains nothing`, async () => {
        const recipe = { ...RECIPE, rounding };
        const halved = await trained({ ...recipe, learningRate: { weight: 0.01, bias: 0.01 } }, build);
        const scaled = await trained(recipe, build, 0.5);
        const unscaled = await trained(recipe, build);
        const frozen = await trained(recipe, build, 0);
        const start = new Map(qmodel.tensors.map((t) => [t.name, t.data!]));
        let moved = 0;
        for (const [name, values] of halved) {
          expect(Array.from(scaled.get(name)!), name).toEqual(Array.from(values));
          expect(Array.from(frozen.get(name)!), name).toEqual(start.get(name));
          if (Array.from(unscaled.get(name)!).some((v, i) => v !== values[i])) moved++;
        }
        expect(moved, 'the full rate moves some tensor otherwise than the halved one').toBeGreaterThan(0);
      });
    }
  }

  it('keeps the carry state across a change of scale, where a reload at the halved rate zeroes it', async () => {
    const recipe: TrainRecipe = { ...RECIPE, rounding: 'carry' };
    const trainer = await Trainer.create(qmodel, recipe, { build: 'mvp' });
    for (let i = 0; i < STEPS; i++) trainer.step(sample(i), train.labels[i]);
    trainer.setRateScale(0.5);
    for (let i = STEPS; i < 2 * STEPS; i++) trainer.step(sample(i), train.labels[i]);
    const first = await Trainer.create(qmodel, recipe, { build: 'mvp' });
    for (let i = 0; i < STEPS; i++) first.step(sample(i), train.labels[i]);
    const again = await Trainer.create(first.exportQModel(), { ...recipe, learningRate: { weight: 0.01, bias: 0.01 } }, { build: 'mvp' });
    for (let i = STEPS; i < 2 * STEPS; i++) again.step(sample(i), train.labels[i]);
    const kept = trainer.trainedTensors(), restarted = again.trainedTensors();
    expect(restarted.size).toBe(kept.size);
    // the reload zeroes the carry fractions: the two runs part ways
    expect([...kept].some(([name, v]) => Array.from(v).some((x, i) => x !== restarted.get(name)![i]))).toBe(true);
  });

  it('refuses a negative or non-finite scale (typed error, nothing changed)', async () => {
    const trainer = await Trainer.create(qmodel, RECIPE, { build: 'mvp' });
    for (const bad of [-1, NaN, Infinity]) expect(() => trainer.setRateScale(bad)).toThrow(ValueError);
    expect(() => trainer.setRateScale(1)).not.toThrow(DeviceError);
  });
});
