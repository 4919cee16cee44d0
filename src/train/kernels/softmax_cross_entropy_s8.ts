// Softmax cross-entropy of one sample from int8 logits and an integer label, batch 1.
//
//   logits     int8 [classes], real value scale * (q - zeroPoint), read. The zero point cancels
//              (softmax is shift-invariant), so it is not an argument.
//   label      the true class, in [0, classes)
//   logitsGrad f32 [classes], written: dL/dz = softmax(z) - onehot(label)
// Returns the loss -log softmax(z)[label] = log(sum exp(z - max)) - (z[label] - max) (>= 0), or
// NaN (and writes nothing) when classes <= 0 or the label is out of range.
// exp/log are AssemblyScript's Mathf (the same code on every build and host).

export function softmax_cross_entropy_s8(logits: usize, classes: i32, scale: f32, label: i32, logitsGrad: usize): f32 {
  if (classes <= 0 || label < 0 || label >= classes) return NaN;
  let qMax: i32 = -128;
  for (let i = 0; i < classes; i++) qMax = max(qMax, <i32>load<i8>(logits + <usize>i));
  let sum: f32 = 0;
  for (let i = 0; i < classes; i++) {
    const e = Mathf.exp(scale * <f32>(<i32>load<i8>(logits + <usize>i) - qMax));
    store<f32>(logitsGrad + (<usize>i << 2), e);
    sum += e;
  }
  for (let i = 0; i < classes; i++) {
    const p = logitsGrad + (<usize>i << 2);
    store<f32>(p, load<f32>(p) / sum - (i == label ? <f32>1 : <f32>0));
  }
  return Mathf.log(sum) - scale * <f32>(<i32>load<i8>(logits + <usize>label) - qMax);
}
