// The training executor's run(): the arena accounting (bind/release per op, high-water marks)
// runs on the first successful step after load only, later steps only dispatch. On a small graph
// where every layer trains: high_water() stays the planned mark over many steps, a first step
// that fails leaves the accounting to the next one, and errors clear on the next success.

import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/compiler/builder.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import { writeContainer } from '../../src/formats/container.js';
import { CATEGORY_COUNT, Status } from '../../src/formats/schema.js';
import { Random } from '../../src/host/random.js';
import { BUILDS, loadInto, NO_BUDGET } from '../helpers/device.js';
import { trainExecutor } from './step_probe.js';

const CLASSES = 4;
const SIZE = 8 * 8 * 3;

function smallModel() {
  const b = new ModelBuilder('run', [8, 8, 3]);
  let x = b.conv2d(b.input(), { filters: 8, kernel: 3, activation: 'relu', name: 'stem' });
  x = b.depthwise(x, { kernel: 3, activation: 'relu6', name: 'dw' });
  x = b.pointwise(x, { filters: 8, activation: 'relu', name: 'pw' });
  x = b.globalAvgPool(x, { name: 'gap' });
  x = b.fullyConnected(x, { units: CLASSES, name: 'fc' });
  const rng = new Random(11);
  const graph = b.build(x, rng);
  return { qmodel: quantizeGraph(graph, Float32Array.from({ length: 64 * SIZE }, () => rng.next())), rng };
}

const { qmodel, rng } = smallModel();
const images = Float32Array.from({ length: 4 * SIZE }, () => rng.next());
const recipe = { weights: ['stem', 'dw', 'pw'].map((layer) => ({ layer, ratio: 1 as const })), learningRate: { weight: 0.1, bias: 0.1 } };
const { container, report } = lowerTrainStep(qmodel, recipe);
const bytes = writeContainer(container);

describe('training executor run(): accounting on the first step after load', () => {
  for (const build of BUILDS) {
    it(`${build}: a failed first step leaves the accounting to the next; marks stay planned; errors clear on success`, () => {
      const ex = trainExecutor(build);
      expect(loadInto(ex, bytes, NO_BUDGET).status).toBe(Status.OK);
      // the inputs' bytes are reused later in a step: write both before every step
      const stepOn = (s: number, label: number) => {
        new Float32Array(ex.memory.buffer, ex.input_ptr(0), SIZE).set(images.subarray(s * SIZE, (s + 1) * SIZE));
        new Int32Array(ex.memory.buffer, ex.input_ptr(1), 1)[0] = label;
        return ex.run();
      };
      expect(stepOn(0, CLASSES), 'a label outside the classes').toBe(Status.BAD_INPUT);
      const failedAt = ex.error_op();
      expect(failedAt).toBeGreaterThan(0);
      const peaks: number[][] = [];
      for (let s = 0; s < 4; s++) {
        expect(stepOn(s, s % CLASSES), `step ${s}`).toBe(Status.OK);
        expect([ex.error_op(), ex.error_detail()], `step ${s}`).toEqual([-1, -1]);
        expect(ex.high_water(), `step ${s}`).toBe(report.highWaterBytes);
        peaks.push(Array.from({ length: CATEGORY_COUNT }, (_, c) => ex.high_water_of(c)));
      }
      expect(peaks[0].some((p) => p > 0), 'the first step measured its categories').toBe(true);
      for (const p of peaks) expect(p, 'later steps keep the first step\'s marks').toEqual(peaks[0]);
      expect(stepOn(1, CLASSES), 'a failure after the accounting').toBe(Status.BAD_INPUT);
      expect(ex.error_op()).toBe(failedAt);
      expect(ex.high_water()).toBe(report.highWaterBytes);
      // another container on the same instance: measured anew (load clears the marks)
      const other = lowerTrainStep(qmodel, { learningRate: recipe.learningRate });
      expect(other.report.highWaterBytes).not.toBe(report.highWaterBytes);
      expect(loadInto(ex, writeContainer(other.container), NO_BUDGET).status).toBe(Status.OK);
      expect(stepOn(0, 1), 'after a new load').toBe(Status.OK);
      expect(ex.high_water(), 'measured again after a load').toBe(other.report.highWaterBytes);
    });
  }
});
