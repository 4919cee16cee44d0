// The in-bounds part of a pooling window along one axis: output position `o` covers input
// positions [o * stride - pad, o * stride - pad + filter), clipped to [0, extent). The end is
// never below the start, so an all-padding window is empty rather than negative.

/** First in-bounds input position of output position `o`. */
// @ts-ignore: decorator
@inline
export function windowStart(o: i32, stride: i32, pad: i32): i32 {
  return max(0, o * stride - pad);
}

/** One past the last in-bounds input position of output position `o`. */
// @ts-ignore: decorator
@inline
export function windowEnd(o: i32, stride: i32, pad: i32, filter: i32, extent: i32): i32 {
  const origin = o * stride - pad;
  return max(max(0, origin), min(extent, origin + filter));
}
