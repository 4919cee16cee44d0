// One device train step of the reference CNN against the reference backward on the device's
// own int8 forward (device_oracle.ts): every gradient and every trained parameter, conv1
// included, element by element, on both builds and two samples.

import { describe, it } from 'vitest';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { BUILDS } from '../helpers/device.js';
import { expectStepMatchesOracle } from './device_oracle.js';
import { referenceCnnTask } from './reference_task.js';

const { qmodel, sample, labelOf } = referenceCnnTask();
const BELOW = ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'];
const SCHEMES: Record<string, TrainRecipe> = {
  classifier: {},
  biasOnly: { biasLastK: 5 },
  sparse: { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.25 }] },
  full: { weights: BELOW.map((layer) => ({ layer, ratio: 1 as const })) },
};

describe('one device train step against the reference backward on the device forward', () => {
  const learningRate = { weight: 0.5, bias: 0.5 };
  for (const [scheme, recipe] of Object.entries(SCHEMES)) {
    for (const build of BUILDS) {
      for (const index of [0, 1]) {
        it(`${scheme} on ${build}, sample ${index}: every gradient and every trained parameter`, async () => {
          await expectStepMatchesOracle(qmodel, { ...recipe, learningRate }, build, sample(index), labelOf(index), `${scheme} ${build} sample ${index}`);
        });
      }
    }
  }
});
