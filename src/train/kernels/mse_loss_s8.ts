// The loss value of mse_s8 alone (same sum, same order, same bits), for the MSE_LOSS op that
// runs before MSE_GRAD. prediction int8 [count] (real value scale * (q - zeroPoint)), target
// f32 [count]. Returns NaN when count <= 0.
export function mse_loss_s8(prediction: usize, scale: f32, zeroPoint: i32, target: usize, count: i32): f32 {
  if (count <= 0) return NaN;
  let sum: f32 = 0;
  for (let i = 0; i < count; i++) {
    const d = scale * <f32>(<i32>load<i8>(prediction + <usize>i) - zeroPoint) - load<f32>(target + (<usize>i << 2));
    sum += d * d;
  }
  return sum / <f32>count;
}
