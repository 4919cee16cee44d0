// The loss value of softmax_cross_entropy_s8 without its gradient (the train step's loss op
// writes only the value; the gradient op writes dL/dlogits). Same arithmetic in the same
// order, so both return the same bits.
//
//   logits  int8 [classes], real value scale * (q - zeroPoint), read (the zero point cancels)
//   label   the true class, in [0, classes)
// Returns -log softmax(z)[label], or NaN when classes <= 0 or the label is out of range.

export function softmax_cross_entropy_loss_s8(logits: usize, classes: i32, scale: f32, label: i32): f32 {
  if (classes <= 0 || label < 0 || label >= classes) return NaN;
  let qMax: i32 = -128;
  for (let i = 0; i < classes; i++) qMax = max(qMax, <i32>load<i8>(logits + <usize>i));
  let sum: f32 = 0;
  for (let i = 0; i < classes; i++) sum += Mathf.exp(scale * <f32>(<i32>load<i8>(logits + <usize>i) - qMax));
  return Mathf.log(sum) - scale * <f32>(<i32>load<i8>(logits + <usize>label) - qMax);
}
