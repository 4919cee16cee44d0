// `sparrow train` and `sparrow plan --train` (targets/node/train_command.ts), and the curve
// writer (curve_svg.ts): a short training run on the device runtime whose memory is measured
// as planned, whose curve file is an SVG with both series, whose exported container reproduces
// the reported accuracy; typed errors for bad flags; the commands end to end through the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainStepMemory } from '../../src/compiler/train/scheme_search.js';
import { RecipeError, ValueError } from '../../src/formats/errors.js';
import { modelToJson } from '../../src/formats/model_json.js';
import { filterClasses } from '../../src/host/datasets/mnist.js';
import { Model } from '../../src/host/model.js';
import { Session } from '../../src/host/session.js';
import { curveSvg, movingAverage } from '../../targets/node/curve_svg.js';
import { referenceData, referenceQModel } from '../../targets/node/reference.js';
import { trainCommand } from '../../targets/node/train_command.js';

const dir = mkdtempSync(join(tmpdir(), 'sparrow-train-'));

function sparrow(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/sparrow.mjs', ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('sparrow train', () => {
  it('trains on the device, measures the planned memory, writes the curve and a container that reproduces the accuracy', async () => {
    const curve = join(dir, 'curve.svg');
    const exported = join(dir, 'trained.spw');
    const summary = await trainCommand({ digits: '5-9', trainDigits: '200', epochs: '2', build: 'mvp', curve, export: exported, progress: false });
    expect(summary.trainCount).toBe(200);
    expect(summary.testCount).toBe(1000); // 200 held-out digits per class
    expect(summary.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of summary.epochs) expect(Number.isFinite(e.meanLoss), `epoch ${e.epoch} loss ${e.meanLoss}`).toBe(true);
    expect(summary.memory.highWaterBytes).toBe(summary.memory.plannedHighWaterBytes);
    expect(summary.memory.plannedBytes).toBeLessThanOrEqual(summary.memory.budgetBytes);

    const svg = readFileSync(curve, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path d="M/g)?.length, 'a loss and an accuracy path').toBe(2);
    expect(svg.match(/<circle /g)?.length, 'accuracy before training and after each epoch').toBe(3);

    const bytes = readFileSync(exported);
    const session = await Session.create(Model.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), { build: 'mvp' });
    const test = filterClasses(referenceData().test, [5, 6, 7, 8, 9]);
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      const [out] = session.run(test.images.subarray(i * 784, (i + 1) * 784));
      let best = 0;
      for (let c = 1; c < out.length; c++) if (out[c] > out[best]) best = c;
      if (best === test.labels[i]) correct++;
    }
    expect(correct / test.count).toBe(summary.epochs[1].accuracy);
  });

  it('refuses bad flags with ValueError', async () => {
    await expect(trainCommand({ digits: '3-7', progress: false })).rejects.toThrow(ValueError);
    await expect(trainCommand({ curve: join(dir, 'c.png'), progress: false })).rejects.toThrow(/--curve must name a .svg or .html file/);
    await expect(trainCommand({ epochs: '0', progress: false })).rejects.toThrow(/--epochs must be an integer >= 1/);
    await expect(trainCommand({ rounding: 'up', progress: false })).rejects.toThrow(/--rounding must be one of stochastic, nearest, carry, got "up"/);
    const withMomentum = join(dir, 'momentum.json');
    writeFileSync(withMomentum, JSON.stringify({ momentum: 0.9 }));
    await expect(trainCommand({ recipe: withMomentum, rounding: 'carry', progress: false })).rejects.toThrow(RecipeError);
  });

  it('runs from the command line with a recipe file, and `plan --train recipe.json` prints the step\'s memory', () => {
    const recipe = join(dir, 'recipe.json');
    writeFileSync(recipe, JSON.stringify({ biasLastK: 1, learningRate: { weight: 0.002, bias: 0.002 } }));
    const html = join(dir, 'curve.html');
    const r = sparrow('train', '--recipe', recipe, '--train-digits', '100', '--build', 'mvp', '--curve', html, '--no-progress');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/classifier \+ biases of the last 1/);
    expect(r.stdout).toMatch(/epoch 1\/1: mean loss \d+\.\d+, held-out accuracy \d+\.\d+ %/);
    expect(r.stdout).toMatch(/measured high-water mark = planned/);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<svg/);

    const data = referenceData();
    const { qmodel } = referenceQModel('reference-cnn', data);
    const model = join(dir, 'cnn.json');
    writeFileSync(model, modelToJson(qmodel));
    const plan = sparrow('plan', model, '--train', recipe, '--device', 'nrf52840', '--json');
    expect(plan.status, plan.stderr).toBe(0);
    const json = JSON.parse(plan.stdout);
    expect(json.memory.arenaBytes).toBe(trainStepMemory(qmodel)({ biasLastK: 1 }).arenaBytes);
    expect(json.scheme).toBe('classifier + biases of the last 1');
    const bad = sparrow('train', '--digits', 'odd');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/ValueError: --digits must be one of 0-4, 5-9, all/);
  });
});

describe('curve_svg', () => {
  it('averages runs of losses at their last step and scales points into the plot', () => {
    expect(movingAverage([1, 3, 5, 7, 9], 2)).toEqual([[2, 2], [4, 6], [5, 9]]);
    const svg = curveSvg({ title: 'a < b', loss: [[0, 2], [10, 1]], accuracy: [[0, 0.5], [10, 1]] });
    expect(svg).toMatch(/a &lt; b/);
    // the loss axis tops at 2 (the nice ceiling of the largest loss): its first point is at the top
    expect(svg).toMatch(/<path d="M64\.0,40\.0 L656\.0,196\.0"/);
  });
});
