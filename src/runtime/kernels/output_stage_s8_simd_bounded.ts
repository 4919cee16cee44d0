// The fast requantization of output_stage_s8_simd.ts without its per-output clamp, for kernels
// whose accumulators are bounded by construction: acc = B + d with a per-channel constant B
// (bias - inZp * sum of weights) and a data term |d| <= D known per call (e.g. D = inC * 127 * 128
// for a pointwise product of raw int8 inputs).
//
// The fast path needs |acc| < C = 2^(30 - spread) so that acc * 2^(1 + eMax - e) fits int32.
// Instead of clamping every output, the kernel clamps B once to [-(C - D), C - 1 - D], so every
// acc lies in [-C, C). When B was clamped, acc and the true accumulator both lie beyond
// C - 1 - 2D in magnitude; the group is eligible only if that is >= 2^(9 + eMax), where
// |MBQM| >= 256 (m > 2^30) and the output saturates to the same int8 value either way.
// B is computed in 64 bits; a group is eligible only if B +- D never leaves int32, so the
// scalar kernel's int32 accumulation cannot wrap either.
//
// Conditions per group of 4 channels (boundedFastExponent): every multiplier > 2^30, every
// right shift e >= 1, the two magnitude conditions above. The spread eMax - eMin is not capped
// at FAST_MAX_SPREAD: the clamp bound C shrinks with it instead. Per output the kernel then
// calls requantizeFastUnclamped (output_stage_s8_simd.ts) with the usual requantFast* constants.
// @ts-ignore: decorator
@inline const INT32_MAX_64: i64 = 2147483647;

/**
 * eMax of channels c..c+3 when their accumulators B[j] + d (|d| <= dataBound) can take the
 * bounded fast path, else 0. B = bias - zpSums (zpSums: inZp * sum of the channel's weights per
 * lane, exact), in 64 bits. Scalar work, once per channel group.
 */
export function boundedFastExponent(requant: usize, bias: usize, c: i32, zpSums: v128, dataBound: i32): i32 {
  let eMax = 0;
  for (let j = 0; j < 4; j++) {
    const p = requant + (<usize>(c + j) << 3);
    const m = load<i32>(p), e = -load<i32>(p, 4);
    if (m <= (1 << 30) || e < 1 || e > 20) return 0;
    if (e > eMax) eMax = e;
    const b = boundedBias64(bias, c, j, zpSums);
    if ((b < 0 ? -b : b) + <i64>dataBound > INT32_MAX_64) return 0;
  }
  const spread = exponentSpread(requant, c); // <= 19
  const limit = <i64>1 << <i64>(30 - spread);
  return limit - 1 - 2 * <i64>dataBound >= (<i64>1 << <i64>(9 + eMax)) ? eMax : 0;
}

/** eMax - eMin of the right shifts of channels c..c+3. */
function exponentSpread(requant: usize, c: i32): i32 {
  let lo = 0, hi = i32.MIN_VALUE;
  for (let j = 0; j < 4; j++) {
    const shift = load<i32>(requant + (<usize>(c + j) << 3), 4);
    if (shift < lo) lo = shift;
    if (shift > hi) hi = shift;
  }
  return hi - lo;
}

/** bias[c + j] - zpSums[j] in 64 bits (bias 0 when there is none). */
// @ts-ignore: decorator
@inline
function boundedBias64(bias: usize, c: i32, j: i32, zpSums: v128): i64 {
  const b = bias != 0 ? <i64>load<i32>(bias + (<usize>(c + j) << 2)) : 0;
  const z = j == 0 ? i32x4.extract_lane(zpSums, 0) : j == 1 ? i32x4.extract_lane(zpSums, 1) : j == 2 ? i32x4.extract_lane(zpSums, 2) : i32x4.extract_lane(zpSums, 3);
  return b - <i64>z;
}

/**
 * B = bias - zpSums per lane, clamped to [-(C - D), C - 1 - D] with C = 2^(30 - spread): the
 * constant part of every accumulator of an eligible group (boundedFastExponent != 0), where
 * B fits int32, so the wrapped lane difference is B itself.
 */
// @ts-ignore: decorator
@inline
export function boundedBias(bias: usize, requant: usize, c: i32, zpSums: v128, dataBound: i32): v128 {
  const b = i32x4.sub(bias != 0 ? v128.load(bias + (<usize>c << 2)) : i32x4.splat(0), zpSums);
  const limit = 1 << (30 - exponentSpread(requant, c));
  return i32x4.min_s(i32x4.max_s(b, i32x4.splat(dataBound - limit)), i32x4.splat(limit - 1 - dataBound));
}
