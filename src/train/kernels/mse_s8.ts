// Mean squared error of int8 outputs (real value scale * (q - zeroPoint)) against f32 targets:
// loss = mean((p - t)^2), dL/dp = 2 (p - t) / count, in real values.
//
//   prediction int8 [count] read; target f32 [count] read; predGrad f32 [count] written
// Returns the loss, or NaN (nothing written) when count <= 0. Sums run in index order, in f32.

export function mse_s8(prediction: usize, scale: f32, zeroPoint: i32, target: usize, count: i32, predGrad: usize): f32 {
  if (count <= 0) return NaN;
  const n = <f32>count;
  let sum: f32 = 0;
  for (let i = 0; i < count; i++) {
    const p = scale * <f32>(<i32>load<i8>(prediction + <usize>i) - zeroPoint);
    const d = p - load<f32>(target + (<usize>i << 2));
    sum += d * d;
    store<f32>(predGrad + (<usize>i << 2), (2 * d) / n);
  }
  return sum / n;
}
