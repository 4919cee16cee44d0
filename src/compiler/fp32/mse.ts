// Mean squared error, averaged over every element: loss = mean((p - t)^2), dL/dp = 2 (p - t) / count.

import type { LossResult } from './softmax_cross_entropy.js';

export function meanSquaredError(prediction: Float32Array, target: Float32Array): LossResult {
  const count = prediction.length;
  const grad = new Float32Array(count);
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const d = prediction[i] - target[i];
    loss += d * d;
    grad[i] = (2 * d) / count;
  }
  return { loss: loss / count, grad };
}
