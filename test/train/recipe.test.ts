import { describe, expect, it } from 'vitest';
import { referenceCnn } from '../../src/compiler/models.js';
import { channelNorms, selectChannels } from '../../src/compiler/train/channel_select.js';
import { parseRecipe, resolveRecipe, type TrainRecipe } from '../../src/compiler/train/recipe.js';
import { RecipeError } from '../../src/formats/errors.js';
import type { ParamNode } from '../../src/compiler/graph.js';

const graph = referenceCnn(7); // layers conv1, dw1, pw1, dw2, pw2 below the classifier fc

function recipeError(f: () => unknown): RecipeError {
  try {
    f();
  } catch (e) {
    if (e instanceof RecipeError) return e;
    throw e;
  }
  throw new Error('expected a RecipeError');
}

describe('parseRecipe: structure and ranges', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', [], /must be a JSON object/],
    ['unknown field', { lr: 1 }, /unknown field 'lr'; allowed fields: classifier, biasLastK/],
    ['ratio outside the set', { weights: [{ layer: 'pw1', ratio: 0.3 }] }, /ratio for layer 'pw1' is 0\.3; allowed: 0\.125, 0\.25, 0\.5, 1/],
    ['ratio 0', { weights: [{ layer: 'pw1', ratio: 0 }] }, /allowed: 0\.125, 0\.25, 0\.5, 1 \(leave the layer out/],
    ['negative k', { biasLastK: -1 }, /biasLastK must be a whole number >= 0, got -1/],
    ['unknown loss', { loss: 'hinge' }, /loss is "hinge"; allowed: softmax_cross_entropy, mse/],
    ['unknown rounding', { rounding: 'floor' }, /allowed: stochastic, nearest, carry/],
    ['carry with momentum', { rounding: 'carry', momentum: 0.5 }, /rounding 'carry' and recipe\.momentum 0\.5 exclude each other/],
    ['a non-boolean qas', { qas: 'off' }, /recipe\.qas must be true or false, got "off"/],
    ['momentum 1', { momentum: 1 }, /momentum is 1; allowed: a number in \[0, 1\)/],
    ['learning rate 0', { learningRate: { weight: 0, bias: 1 } }, /learningRate\.weight must be a finite number > 0, got 0/],
    ['epochs 0', { epochs: 0 }, /epochs must be at least 1/],
    ['seed too large', { seed: 2 ** 32 }, /seed is 4294967296; allowed: an integer in \[0, 2\^32\)/],
  ];
  for (const [what, json, message] of cases) {
    it(`refuses ${what}`, () => expect(recipeError(() => parseRecipe(json)).message, JSON.stringify(json)).toMatch(message));
  }
  it('accepts a full recipe read back from JSON', () => {
    const r: TrainRecipe = {
      classifier: true, biasLastK: 2, weights: [{ layer: 'pw2', ratio: 0.25 }], learningRate: { weight: 0.001, bias: 0.0005 },
      epochs: 3, loss: 'mse', rounding: 'nearest', qas: false, momentum: 0.9, seed: 42,
    };
    expect(parseRecipe(JSON.parse(JSON.stringify(r)))).toEqual(r);
    const carry: TrainRecipe = { ...r, rounding: 'carry', momentum: 0 };
    expect(parseRecipe(JSON.parse(JSON.stringify(carry)))).toEqual(carry);
  });
});

describe('resolveRecipe: against the reference CNN', () => {
  it('names the unknown layer and lists the layers that can train', () => {
    const e = recipeError(() => resolveRecipe(graph, { weights: [{ layer: 'pw9', ratio: 1 }] }));
    expect(e.message).toMatch(/unknown layer 'pw9'; layers of 'reference-cnn' that can train: conv1, dw1, pw1, dw2, pw2/);
  });
  it('refuses k larger than the number of layers below the classifier, with the allowed range', () => {
    expect(recipeError(() => resolveRecipe(graph, { biasLastK: 6 })).message).toMatch(/biasLastK is 6 but .* has 5 layers below the classifier 'fc'; allowed: 0\.\.5/);
  });
  it('refuses the classifier in the weight list and a layer named twice', () => {
    expect(recipeError(() => resolveRecipe(graph, { weights: [{ layer: 'fc', ratio: 1 }] })).message).toMatch(/names the classifier 'fc'/);
    expect(recipeError(() => resolveRecipe(graph, { weights: [{ layer: 'pw1', ratio: 1 }, { layer: 'pw1', ratio: 0.5 }] })).message).toMatch(/names layer 'pw1' twice/);
  });
  it('fills defaults: classifier trains, nothing else, the anchor learning rates, stochastic rounding, QAS', () => {
    const r = resolveRecipe(graph, {});
    expect(r.layers.map((l) => [l.layer, l.trainBias, l.weightRatio])).toEqual([
      ['conv1', false, 0], ['dw1', false, 0], ['pw1', false, 0], ['dw2', false, 0], ['pw2', false, 0], ['fc', true, 1],
    ]);
    expect([r.learningRate, r.loss, r.rounding, r.qas, r.momentum, r.epochs]).toEqual([{ weight: 0.0008, bias: 0.0004 }, 'softmax_cross_entropy', 'stochastic', true, 0, 1]);
  });
  it('trains the biases of the last k layers and the bias of every weight-trained layer', () => {
    const r = resolveRecipe(graph, { biasLastK: 2, weights: [{ layer: 'dw1', ratio: 0.5 }], classifier: false });
    expect(r.layers.filter((l) => l.trainBias).map((l) => l.layer)).toEqual(['dw1', 'dw2', 'pw2']);
    expect(r.layers.find((l) => l.layer === 'fc')!.weightRatio).toBe(0);
  });
  it('selects output channels of a pointwise layer by weight L2 norm, largest first', () => {
    const pw2 = graph.nodes.find((n) => n.name === 'pw2') as ParamNode; // [32, 1, 1, 16]
    const r = resolveRecipe(graph, { weights: [{ layer: 'pw2', ratio: 0.25 }] });
    const chosen = r.layers.find((l) => l.layer === 'pw2')!;
    expect(chosen.channelAxis).toBe('output');
    expect(chosen.channels).toHaveLength(8);
    const norms = channelNorms(pw2);
    const weakestChosen = Math.min(...chosen.channels.map((c) => norms[c]));
    const strongestLeft = Math.max(...[...norms.keys()].filter((c) => !chosen.channels.includes(c)).map((c) => norms[c]));
    expect(weakestChosen, `chosen ${chosen.channels}`).toBeGreaterThan(strongestLeft);
    // Hand check of the norm: filter row 3 (output channel 3, its 16 input weights).
    let n3 = 0;
    for (let i = 0; i < 16; i++) n3 += pw2.weight.data[3 * 16 + i] ** 2;
    expect(norms[3]).toBeCloseTo(n3, 10);
  });
  it('selects depthwise channels and keeps at least one channel', () => {
    const dw1 = graph.nodes.find((n) => n.name === 'dw1') as ParamNode; // [1, 3, 3, 8]
    expect(selectChannels(dw1, 0.125)).toHaveLength(1);
    const r = resolveRecipe(graph, { weights: [{ layer: 'dw1', ratio: 0.5 }, { layer: 'conv1', ratio: 0.125 }] });
    expect(r.layers[1].channelAxis).toBe('channel');
    expect(r.layers[1].channels).toHaveLength(4);
    expect(r.layers[0].channels).toHaveLength(1); // 1/8 of conv1's 8 output channels
  });
});
