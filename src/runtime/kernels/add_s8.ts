// Elementwise int8 addition, bit-exact with TensorFlow Lite Micro's reference int8 ADD.
//
// a, b, output: int8 [count], same shape (no broadcasting); output may be a or b (in place).
// aZp, bZp, outZp: zero points. leftShift and the (multiplier, shift) pairs: from
// quant_math.addParams(aScale, bScale, outScale); actMin/actMax: the fused activation clamp.
//
//   a' = (a - aZp) << leftShift, rescaled to twice the larger input scale (double rounding),
//   likewise b'; out = rescale(a' + b') to the output scale, + outZp, clamped.
import { multiplyByQuantizedMultiplier } from '../requant';

/** One output element; shared with the SIMD kernel's tail. */
// @ts-ignore: decorator
@inline
export function addOne(a: i32, aZp: i32, b: i32, bZp: i32, outZp: i32, leftShift: i32, aMultiplier: i32, aShift: i32, bMultiplier: i32, bShift: i32, outMultiplier: i32, outShift: i32, actMin: i32, actMax: i32): i32 {
  const scaledA = multiplyByQuantizedMultiplier((a - aZp) << leftShift, aMultiplier, aShift);
  const scaledB = multiplyByQuantizedMultiplier((b - bZp) << leftShift, bMultiplier, bShift);
  let out = multiplyByQuantizedMultiplier(scaledA + scaledB, outMultiplier, outShift) + outZp;
  if (out < actMin) out = actMin;
  if (out > actMax) out = actMax;
  return out;
}

export function add_s8(a: usize, aZp: i32, b: usize, bZp: i32, output: usize, outZp: i32, count: i32, leftShift: i32, aMultiplier: i32, aShift: i32, bMultiplier: i32, bShift: i32, outMultiplier: i32, outShift: i32, actMin: i32, actMax: i32): void {
  for (let i = 0; i < count; i++) {
    const out = addOne(<i32>load<i8>(a + i), aZp, <i32>load<i8>(b + i), bZp, outZp, leftShift, aMultiplier, aShift, bMultiplier, bShift, outMultiplier, outShift, actMin, actMax);
    store<i8>(output + i, <i8>out);
  }
}
