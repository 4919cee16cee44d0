// The training recipe: what an on-device train step updates and how. A recipe is plain JSON
// (parseRecipe checks its structure) and is resolved against one graph (resolveRecipe checks
// the layer names and counts and picks the trained channels). Everything not named here is
// frozen: its weights stay in flash and the backward graph is pruned around it (autodiff.ts).
//
// What can train (the sparse-update space of "On-Device Training Under 256KB Memory"):
// - the classifier (the graph's last conv/depthwise/fc layer): all its weights and biases;
// - the biases of the last k layers below the classifier (`biasLastK`);
// - the weights of listed layers at a channel ratio in {1/8, 1/4, 1/2, 1}; a layer whose
//   weights train also trains all its biases. Channels are chosen by weight L2 norm,
//   largest first (channel_select.ts): conv2d, pointwise and fully connected layers select
//   OUTPUT channels (the device's fused update trains whole filter rows W[c] and needs the
//   layer's whole input), depthwise layers select their channels.

import { RecipeError } from '../../formats/errors.js';
import { hasParams, type Graph, type ParamNode } from '../graph.js';
import { selectChannels } from './channel_select.js';

export type LossKind = 'softmax_cross_entropy' | 'mse';
export type Rounding = 'stochastic' | 'nearest' | 'carry';

/** Channel ratios a weight update may use. */
export const WEIGHT_RATIOS = [0.125, 0.25, 0.5, 1] as const;
export type WeightRatio = (typeof WEIGHT_RATIOS)[number];

export interface WeightUpdate {
  /** Name of a conv2d, depthwise_conv2d or fully_connected node below the classifier. */
  layer: string;
  ratio: WeightRatio;
}

/** A recipe as written in JSON. Every field but `weights` has a default. */
export interface TrainRecipe {
  /** Train the classifier's weights and biases. Default true. */
  classifier?: boolean;
  /** Train the biases of the last k layers below the classifier. Default 0. */
  biasLastK?: number;
  /** Weight updates of layers below the classifier. Default none. */
  weights?: WeightUpdate[];
  /** SGD learning rates. Defaults 0.0008 (weights) and 0.0004 (biases), the anchor's. */
  learningRate?: { weight: number; bias: number };
  /** Passes over the training data. Default 1. */
  epochs?: number;
  /** Default 'softmax_cross_entropy' (on the graph's logits). */
  loss?: LossKind;
  /**
   * Rounding of int8 weight updates (docs/training-math.md). Default 'stochastic'. 'carry'
   * keeps an int8 fraction per trained weight (1 byte of optimizer state each) so sub-quantum
   * steps accumulate exactly; its biases round stochastically; excludes momentum.
   */
  rounding?: Rounding;
  /**
   * Quantization-aware scaling of int8 updates (docs/training-math.md). Default true; false
   * steps along the plain gradient w.r.t. the int8 tensors (the ablation's baseline).
   */
  qas?: boolean;
  /** Heavy-ball momentum in [0, 1); 0 or absent: plain SGD, no optimizer state. */
  momentum?: number;
  /** Seed of the device PRNG (stochastic rounding, sampling). Default 0. */
  seed?: number;
}

/** What trains in one layer after resolution. */
export interface LayerTraining {
  layer: string;
  kind: ParamNode['kind'];
  /** Index of the layer among the graph's parameter layers (0 = first). */
  index: number;
  trainBias: boolean;
  /** 0 when the weights are frozen. */
  weightRatio: 0 | WeightRatio;
  /**
   * Trained channel indices, ascending: output channels (conv2d/fc) or channels (depthwise);
   * empty when the weights are frozen.
   */
  channels: number[];
  /** 'output' for conv2d and fully_connected, 'channel' for depthwise. */
  channelAxis: 'output' | 'channel';
}

export interface ResolvedRecipe {
  graph: string;
  /** One entry per parameter layer of the graph, in node order. */
  layers: LayerTraining[];
  learningRate: { weight: number; bias: number };
  epochs: number;
  loss: LossKind;
  rounding: Rounding;
  qas: boolean;
  /** 0 = no momentum. */
  momentum: number;
  seed: number;
}

export const DEFAULT_LEARNING_RATE = { weight: 0.0008, bias: 0.0004 };
const RECIPE_KEYS = ['classifier', 'biasLastK', 'weights', 'learningRate', 'epochs', 'loss', 'rounding', 'qas', 'momentum', 'seed'];
const LOSSES: LossKind[] = ['softmax_cross_entropy', 'mse'];
export const ROUNDINGS: readonly Rounding[] = ['stochastic', 'nearest', 'carry'];

/** Checks the structure and ranges of a recipe read from JSON (no graph needed). */
export function parseRecipe(json: unknown): TrainRecipe {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RecipeError('a recipe must be a JSON object');
  const r = json as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!RECIPE_KEYS.includes(key)) throw new RecipeError(`recipe: unknown field '${key}'; allowed fields: ${RECIPE_KEYS.join(', ')}`);
  }
  if (r.classifier !== undefined && typeof r.classifier !== 'boolean') throw new RecipeError(`recipe.classifier must be true or false, got ${show(r.classifier)}`);
  if (r.biasLastK !== undefined) nonNegativeInteger('recipe.biasLastK', r.biasLastK);
  if (r.weights !== undefined) {
    if (!Array.isArray(r.weights)) throw new RecipeError(`recipe.weights must be a list of { layer, ratio }, got ${show(r.weights)}`);
    r.weights.forEach((w, i) => {
      const where = `recipe.weights[${i}]`;
      if (typeof w !== 'object' || w === null) throw new RecipeError(`${where} must be { layer, ratio }, got ${show(w)}`);
      const { layer, ratio, ...rest } = w as Record<string, unknown>;
      if (Object.keys(rest).length) throw new RecipeError(`${where}: unknown field '${Object.keys(rest)[0]}'; allowed: layer, ratio`);
      if (typeof layer !== 'string' || !layer) throw new RecipeError(`${where}.layer must be a layer name, got ${show(layer)}`);
      if (!WEIGHT_RATIOS.includes(ratio as WeightRatio)) {
        throw new RecipeError(`${where}.ratio for layer '${layer}' is ${show(ratio)}; allowed: ${WEIGHT_RATIOS.join(', ')} (leave the layer out to freeze it)`);
      }
    });
  }
  if (r.learningRate !== undefined) {
    const lr = r.learningRate as Record<string, unknown>;
    if (typeof lr !== 'object' || lr === null) throw new RecipeError(`recipe.learningRate must be { weight, bias }, got ${show(lr)}`);
    for (const k of ['weight', 'bias']) {
      const v = lr[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RecipeError(`recipe.learningRate.${k} must be a finite number > 0, got ${show(v)}`);
    }
  }
  if (r.epochs !== undefined) {
    nonNegativeInteger('recipe.epochs', r.epochs);
    if (r.epochs === 0) throw new RecipeError('recipe.epochs must be at least 1, got 0');
  }
  if (r.loss !== undefined && !LOSSES.includes(r.loss as LossKind)) throw new RecipeError(`recipe.loss is ${show(r.loss)}; allowed: ${LOSSES.join(', ')}`);
  if (r.rounding !== undefined && !ROUNDINGS.includes(r.rounding as Rounding)) throw new RecipeError(`recipe.rounding is ${show(r.rounding)}; allowed: ${ROUNDINGS.join(', ')}`);
  if (r.qas !== undefined && typeof r.qas !== 'boolean') throw new RecipeError(`recipe.qas must be true or false, got ${show(r.qas)}`);
  if (r.momentum !== undefined && !(typeof r.momentum === 'number' && r.momentum >= 0 && r.momentum < 1)) {
    throw new RecipeError(`recipe.momentum is ${show(r.momentum)}; allowed: a number in [0, 1) (0: no momentum, no optimizer state)`);
  }
  if (r.rounding === 'carry' && typeof r.momentum === 'number' && r.momentum > 0) {
    throw new RecipeError(`recipe.rounding 'carry' and recipe.momentum ${r.momentum} exclude each other (each weight has one optimizer state: its carry fraction or its momentum); set momentum to 0 or choose another rounding`);
  }
  if (r.seed !== undefined && !(Number.isInteger(r.seed) && (r.seed as number) >= 0 && (r.seed as number) <= 0xffffffff)) {
    throw new RecipeError(`recipe.seed is ${show(r.seed)}; allowed: an integer in [0, 2^32)`);
  }
  return r as TrainRecipe;
}

/** The graph's parameter layers in node order; the last one is the classifier. */
export function paramLayers(graph: Graph): ParamNode[] {
  return graph.nodes.filter(hasParams);
}

/**
 * Resolves `recipe` against `graph`: checks layer names and k, picks the trained channels
 * by weight L2 norm. Throws RecipeError naming the layer and the allowed values.
 */
export function resolveRecipe(graph: Graph, recipe: TrainRecipe): ResolvedRecipe {
  parseRecipe(recipe);
  const layers = paramLayers(graph);
  if (layers.length === 0) throw new RecipeError(`graph '${graph.name}' has no layer with parameters to train`);
  const below = layers.slice(0, -1);
  const classifier = layers[layers.length - 1];
  const k = recipe.biasLastK ?? 0;
  if (k > below.length) {
    throw new RecipeError(`recipe.biasLastK is ${k} but graph '${graph.name}' has ${below.length} layers below the classifier '${classifier.name}'; allowed: 0..${below.length}`);
  }
  const ratios = new Map<string, WeightRatio>();
  for (const w of recipe.weights ?? []) {
    if (w.layer === classifier.name) {
      throw new RecipeError(`recipe.weights names the classifier '${w.layer}'; it trains whole through recipe.classifier (true/false)`);
    }
    if (!below.some((l) => l.name === w.layer)) {
      throw new RecipeError(`recipe.weights: unknown layer '${w.layer}'; layers of '${graph.name}' that can train: ${below.map((l) => l.name).join(', ')}`);
    }
    if (ratios.has(w.layer)) throw new RecipeError(`recipe.weights names layer '${w.layer}' twice; give it one ratio`);
    ratios.set(w.layer, w.ratio);
  }
  const trainClassifier = recipe.classifier ?? true;
  const resolved = layers.map((node, index): LayerTraining => {
    const isClassifier = node === classifier;
    const ratio: 0 | WeightRatio = isClassifier ? (trainClassifier ? 1 : 0) : ratios.get(node.name) ?? 0;
    const trainBias = ratio > 0 || (isClassifier ? trainClassifier : index >= below.length - k);
    const channelAxis = node.kind === 'depthwise_conv2d' ? 'channel' : 'output';
    return {
      layer: node.name, kind: node.kind, index, trainBias, weightRatio: ratio, channelAxis,
      channels: ratio > 0 ? selectChannels(node, ratio) : [],
    };
  });
  return {
    graph: graph.name,
    layers: resolved,
    learningRate: { ...(recipe.learningRate ?? DEFAULT_LEARNING_RATE) },
    epochs: recipe.epochs ?? 1,
    loss: recipe.loss ?? 'softmax_cross_entropy',
    rounding: recipe.rounding ?? 'stochastic',
    qas: recipe.qas ?? true,
    momentum: recipe.momentum ?? 0,
    seed: recipe.seed ?? 0,
  };
}

/** True when any weight or bias of the layer trains. */
export function isTrained(l: LayerTraining): boolean {
  return l.trainBias || l.weightRatio > 0;
}

function nonNegativeInteger(what: string, v: unknown): void {
  if (!(Number.isInteger(v) && (v as number) >= 0)) throw new RecipeError(`${what} must be a whole number >= 0, got ${show(v)}`);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}
