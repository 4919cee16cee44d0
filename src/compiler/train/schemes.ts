// The standard update schemes of the anchor's comparison, as recipes for a given graph:
// classifier only, bias only (last k), last k layers (weights and biases), full update, and
// the sparse scheme Sparrow uses for MobileNetV2 in examples/tte-256kb.ts.

import type { Graph } from '../graph.js';
import { paramLayers, type TrainRecipe, type WeightUpdate } from './recipe.js';

/** Names of the layers below the classifier, in node order. */
export function layersBelowClassifier(graph: Graph): string[] {
  return paramLayers(graph).slice(0, -1).map((n) => n.name);
}

export const classifierOnly = (): TrainRecipe => ({});

/** Classifier + the biases of the last k layers (all of them when k is omitted). */
export function biasOnly(graph: Graph, k = layersBelowClassifier(graph).length): TrainRecipe {
  return { biasLastK: k };
}

/** Classifier + all weights and biases of the last k layers below it. */
export function lastKLayers(graph: Graph, k: number): TrainRecipe {
  const weights: WeightUpdate[] = layersBelowClassifier(graph).slice(-k).map((layer) => ({ layer, ratio: 1 }));
  return { weights };
}

export function fullUpdate(graph: Graph): TrainRecipe {
  return lastKLayers(graph, layersBelowClassifier(graph).length);
}

/**
 * A sparse scheme for MobileNetV2 (mobilenetV2() node names) in the anchor's style: the
 * classifier, the biases of the last 10 layers (blocks 15-17 and conv_last), and the weights
 * of the first pointwise (expand) layer of the last three blocks at 1/8, 1/4 and 1/2 of their
 * input channels: later layers and the first pointwise layer of a block contribute most.
 */
export function mobilenetV2Sparse(): TrainRecipe {
  return {
    biasLastK: 10,
    weights: [
      { layer: 'b15_expand', ratio: 0.125 },
      { layer: 'b16_expand', ratio: 0.25 },
      { layer: 'b17_expand', ratio: 0.5 },
    ],
  };
}
