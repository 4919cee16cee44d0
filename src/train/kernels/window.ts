// Sliding-window geometry shared by the backward kernels. Along one axis, output o's tap k
// reads input o * stride - pad + k (the forward kernels' rule); taps outside [0, inSize) are
// padding and carry no gradient.

/** The first output whose tap `k` lands inside the input (stride >= 1). */
// @ts-ignore: decorator
@inline
export function firstOutputOfTap(pad: i32, k: i32, stride: i32): i32 {
  const n = pad - k;
  return n <= 0 ? 0 : (n + stride - 1) / stride;
}

/** One past the last output (at most outSize) whose tap `k` lands inside the input. */
// @ts-ignore: decorator
@inline
export function endOutputOfTap(inSize: i32, pad: i32, k: i32, stride: i32, outSize: i32): i32 {
  const n = inSize - 1 + pad - k;
  return n < 0 ? 0 : min(outSize, n / stride + 1);
}
