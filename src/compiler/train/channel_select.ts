// Which channels of a partially trained layer update: the ones whose weights have the
// largest L2 norm (the anchor's criterion). The selection is made once, on the host, from
// the weights the step starts from. Sparrow selects OUTPUT channels (docs/training.md): the
// device's fused update kernels train whole filter rows W[c] and their biases.

import type { ParamNode } from '../graph.js';

/** Channels a weight update selects: output channels (conv2d OHWI, fc [out, in]) or channels (depthwise 1HWC). */
export function selectableChannels(node: ParamNode): number {
  const s = node.weight.shape;
  return node.kind === 'depthwise_conv2d' ? s[s.length - 1] : s[0];
}

/** Number of channels a ratio selects: round(ratio * C), at least 1. */
export function selectedCount(channels: number, ratio: number): number {
  return Math.max(1, Math.min(channels, Math.round(ratio * channels)));
}

/** Per selectable channel, the squared L2 norm of the weights that multiply it. */
export function channelNorms(node: ParamNode): Float64Array {
  const C = selectableChannels(node);
  const norms = new Float64Array(C);
  const w = node.weight.data;
  const perRow = w.length / C;
  const channelOf = node.kind === 'depthwise_conv2d' ? (i: number) => i % C : (i: number) => Math.floor(i / perRow);
  for (let i = 0; i < w.length; i++) norms[channelOf(i)] += w[i] * w[i];
  return norms;
}

/** The `ratio` share of channels with the largest weight norm (ties: lower index), ascending. */
export function selectChannels(node: ParamNode, ratio: number): number[] {
  const norms = channelNorms(node);
  const count = selectedCount(norms.length, ratio);
  const order = [...norms.keys()].sort((a, b) => norms[b] - norms[a] || a - b);
  return order.slice(0, count).sort((a, b) => a - b);
}
