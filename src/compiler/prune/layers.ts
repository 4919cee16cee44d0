// Which layers the pruning tool may prune, and the block shape each one gets.
//
// Prunable: 1x1 convolutions (weight [outC, 1, 1, inC]) and fully connected layers
// (weight [outC, inC]). Both are an outC x inC row-major matrix: weight (o, i) sits at
// o * inC + i, which is the layout the sparse kernels read. Depthwise convolutions and the
// first convolution of the graph stay dense (the group-sparse kernels do not cover them).

import { ValueError } from '../../formats/errors.js';
import type { Conv2dNode, FullyConnectedNode, Graph } from '../graph.js';

export type PrunePattern = 'group' | '2:4';

/** Block heights (output channels per block) the sparse encoding supports. */
export const GROUP_SIZES = [1, 2, 4, 8] as const;
export type GroupSize = (typeof GROUP_SIZES)[number];

export type PrunableNode = Conv2dNode | FullyConnectedNode;

/** A layer as the pruning tool sees it: an outC x inC matrix and its block shape. */
export interface PruneLayer {
  node: PrunableNode;
  outC: number;
  inC: number;
  pattern: PrunePattern;
  /** Output channels per block (group pattern); 1 for 2:4. */
  group: GroupSize;
  /** Why the block shape differs from the one asked for, if it does. */
  note?: string;
}

function isPointwise(node: Conv2dNode): boolean {
  return node.weight.shape[1] === 1 && node.weight.shape[2] === 1;
}

/** Names of every prunable layer, in node order. */
export function prunableLayerNames(graph: Graph): string[] {
  const firstConv = graph.nodes.find((n) => n.kind === 'conv2d');
  return graph.nodes
    .filter((n) => n.kind === 'fully_connected' || (n.kind === 'conv2d' && n !== firstConv && isPointwise(n)))
    .map((n) => n.name);
}

/**
 * The largest group size in GROUP_SIZES that is <= `requested` and divides `outC` (1 always
 * does). `requested` itself when it divides.
 */
export function resolveGroup(requested: GroupSize, outC: number): GroupSize {
  let best: GroupSize = 1;
  for (const g of GROUP_SIZES) if (g <= requested && outC % g === 0) best = g;
  return best;
}

/**
 * The layers to prune (`names`, default every prunable layer) with their block shapes.
 * Throws ValueError naming a layer that does not exist or may not be pruned.
 */
export function pruneLayers(graph: Graph, pattern: PrunePattern, group: GroupSize, names?: readonly string[]): PruneLayer[] {
  if (!GROUP_SIZES.includes(group)) throw new ValueError(`group size must be one of ${GROUP_SIZES.join(', ')}, got ${group}`);
  const allowed = prunableLayerNames(graph);
  const chosen = names ?? allowed;
  if (chosen.length === 0) throw new ValueError(`graph "${graph.name}" has no prunable layer (1x1 convolution or fully connected)`);
  return chosen.map((name) => {
    if (!allowed.includes(name)) {
      const exists = graph.nodes.some((n) => n.name === name);
      throw new ValueError(`layer "${name}" ${exists ? 'may not be pruned (only 1x1 convolutions after the first conv and fully connected layers are)' : 'is not in the graph'}; prunable: ${allowed.join(', ')}`);
    }
    const node = graph.nodes.find((n) => n.name === name) as PrunableNode;
    const outC = node.weight.shape[0];
    const inC = node.weight.data.length / outC;
    if (pattern === '2:4') {
      const note = inC % 4 === 0 ? undefined : `${inC} input channels: the last ${inC % 4} stay dense (2:4 needs runs of 4)`;
      return { node, outC, inC, pattern, group: 1, note };
    }
    const g = resolveGroup(group, outC);
    const note = g === group ? undefined : `g=${group} does not divide ${outC} output channels: uses g=${g}`;
    return { node, outC, inC, pattern, group: g, note };
  });
}
