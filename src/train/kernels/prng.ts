// The training runtime's one pseudo-random generator: mulberry32 (32 bits of state, period
// 2^32), the same generator as the host's `Random` (src/host/random.ts), so the host can
// replay any device draw exactly. Stochastic rounding is its only consumer today.
//
// The state is a module global: one stream per module instance. The same seed gives the same
// draws on the mvp and simd builds (every kernel consumes draws in the same documented order
// in both builds). Not for cryptography.

let state: u32 = 0;
/** Weyl increment: draw n (1-based) hashes the state seed + n * STATE_STEP, so draws can be computed out of order. */
export const STATE_STEP: u32 = 0x6d2b79f5;

/** Restarts the stream. Every seed, including 0, is valid. */
export function prng_seed(seed: u32): void {
  state = seed;
}

/** The next 32 random bits (the host's `Random.next() * 2^32` for the same seed). */
export function prng_next_u32(): u32 {
  state += STATE_STEP;
  let t = state;
  t = (t ^ (t >>> 15)) * (t | 1);
  t ^= t + (t ^ (t >>> 7)) * (t | 61);
  return t ^ (t >>> 14);
}

/** Uniform in [0, 1) with 24 bits of resolution: every value is exact in f32. One draw. */
// @ts-ignore: decorator
@inline
export function prngUniform(): f32 {
  return <f32>(prng_next_u32() >>> 8) * (<f32>1.0 / <f32>16777216.0);
}

/** Skips `n` draws; returns the state before them (draw i of the n, 1-based, hashes it + i * STATE_STEP). */
// @ts-ignore: decorator
@inline
export function prngSkip(n: u32): u32 {
  const before = state;
  state += n * STATE_STEP;
  return before;
}
