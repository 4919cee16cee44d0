// Softmax cross-entropy on logits, averaged over the batch.
// loss = mean_n( -log softmax(z_n)[label_n] ); dL/dz_n = (softmax(z_n) - onehot(label_n)) / N.

import { softmaxRows } from './softmax.js';

export interface LossResult {
  /** Mean loss over the batch. */
  loss: number;
  /** dL/d(prediction), same layout as the prediction. */
  grad: Float32Array;
}

/** logits [N, classes]; labels [N] in 0..classes-1. */
export function softmaxCrossEntropy(logits: Float32Array, labels: ArrayLike<number>, classes: number): LossResult {
  const batch = logits.length / classes;
  const grad = softmaxRows(logits, classes);
  let loss = 0;
  for (let n = 0; n < batch; n++) {
    const i = n * classes + labels[n];
    loss -= Math.log(Math.max(grad[i], 1e-30));
    grad[i] -= 1;
  }
  for (let i = 0; i < grad.length; i++) grad[i] /= batch;
  return { loss: loss / batch, grad };
}
