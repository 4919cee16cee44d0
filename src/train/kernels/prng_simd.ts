// Four draws of the PRNG (prng.ts) at once: mulberry32's state only advances by a constant, so
// draw n hashes seed + n * STATE_STEP and four consecutive draws are four independent lanes.
// Lane i equals the (i + 1)-th scalar draw bit for bit; the stream ends where four scalar
// draws would have left it.
import { prngSkip, STATE_STEP } from './prng';

/** prngUniform() four times: lane i is the i-th draw, uniform in [0, 1) at 24 bits. */
// @ts-ignore: decorator
@inline
export function prngUniformX4(): v128 {
  const base = prngSkip(4);
  let t = i32x4.add(i32x4.splat(base), i32x4.mul(i32x4(1, 2, 3, 4), i32x4.splat(STATE_STEP)));
  t = i32x4.mul(v128.xor(t, i32x4.shr_u(t, 15)), v128.or(t, i32x4.splat(1)));
  t = v128.xor(t, i32x4.add(t, i32x4.mul(v128.xor(t, i32x4.shr_u(t, 7)), v128.or(t, i32x4.splat(61)))));
  t = v128.xor(t, i32x4.shr_u(t, 14));
  // 24-bit values are non-negative: the signed conversion is exact and cheaper than the unsigned one on x86
  return f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(t, 8)), f32x4.splat(<f32>1.0 / <f32>16777216.0));
}
