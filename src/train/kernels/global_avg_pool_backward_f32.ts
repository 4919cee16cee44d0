// Input gradient of int8 global average pooling, in real values (independent of the input and
// output grids; straight through the rounding). NHWC, batch 1.
//
//   outGrad f32 [channels]              dL/dy, read
//   inGrad  f32 [inH][inW][channels]    dL/dx, overwritten: every pixel gets outGrad / (inH * inW)
// An empty image writes nothing.

export function global_avg_pool_backward_f32(outGrad: usize, inH: i32, inW: i32, channels: i32, inGrad: usize): void {
  const pixels = inH * inW;
  const n = <f32>pixels;
  let dx = inGrad;
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < channels; c++) store<f32>(dx + (<usize>c << 2), load<f32>(outGrad + (<usize>c << 2)) / n);
    dx += <usize>channels << 2;
  }
}

/** As global_avg_pool_backward_f32, but adds to what inGrad holds (a gradient already there). */
export function global_avg_pool_backward_acc_f32(outGrad: usize, inH: i32, inW: i32, channels: i32, inGrad: usize): void {
  const pixels = inH * inW;
  const n = <f32>pixels;
  let dx = inGrad;
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < channels; c++) {
      const p = dx + (<usize>c << 2);
      store<f32>(p, load<f32>(p) + load<f32>(outGrad + (<usize>c << 2)) / n);
    }
    dx += <usize>channels << 2;
  }
}
