// Knowledge distillation (Hinton et al. 2015) for fine-tuning a pruned graph: the unpruned
// graph is the teacher (or any given graphs, logits averaged), and the student's loss adds the divergence of its softened outputs
// from the teacher's:
//
//   L = CE(z_s, label) + w * T^2 * KL( softmax(z_t / T) || softmax(z_s / T) )
//   dL/dz_s = softmax(z_s) - onehot(label) + w * T * (softmax(z_s / T) - softmax(z_t / T))
//
// (both terms averaged over the batch). T^2 keeps the soft term's gradient on the scale of
// the hard term's as T grows. The teacher is fixed and the training set is not augmented, so
// its logits are computed once for every training sample (teacherLogits) and looked up by
// sample index.

import { ValueError } from '../../formats/errors.js';
import type { LossResult } from '../fp32/index.js';
import { softmaxRows } from '../fp32/softmax.js';
import { predict } from '../engine.js';
import type { Graph } from '../graph.js';
import type { Dataset } from '../train_fp32.js';

export interface DistillationOptions {
  /** Softmax temperature T (> 0); typical 2..8. */
  temperature: number;
  /** Weight w of the soft term (>= 0); 0 is plain cross-entropy. */
  weight: number;
}

export function checkDistillation(d: DistillationOptions): void {
  if (!(d.temperature > 0)) throw new ValueError(`distillation temperature must be > 0, got ${d.temperature}`);
  if (!(d.weight >= 0)) throw new ValueError(`distillation weight must be >= 0, got ${d.weight}`);
}

/**
 * The teacher's logits for every sample of `data`: [data.count, classes], sample order. Several
 * teachers (an ensemble) give the mean of their logits.
 */
export function teacherLogits(teacher: Graph | Graph[], data: Dataset): Float32Array {
  const teachers = Array.isArray(teacher) ? teacher : [teacher];
  if (!teachers.length) throw new ValueError('distillation needs at least one teacher graph');
  const logits = teachers.map((t) => predict(t, data.images, data.count));
  if (logits.some((l) => l.length !== logits[0].length)) throw new ValueError(`teachers disagree on the number of classes (${logits.map((l) => l.length / data.count).join(', ')})`);
  const mean = new Float32Array(logits[0].length);
  for (const l of logits) for (let i = 0; i < mean.length; i++) mean[i] += l[i] / logits.length;
  return mean;
}

/**
 * Distillation loss of a batch. `logits` [N, classes] are the student's; row n's teacher
 * logits are row samples[n] of `teacher` ([count, classes]).
 */
export function distillationLoss(
  logits: Float32Array, labels: ArrayLike<number>, samples: ArrayLike<number>, teacher: Float32Array, classes: number, d: DistillationOptions,
): LossResult {
  const batch = logits.length / classes;
  const T = d.temperature;
  const grad = softmaxRows(logits, classes);
  const scaled = new Float32Array(logits.length);
  const teacherScaled = new Float32Array(logits.length);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < classes; c++) {
      scaled[n * classes + c] = logits[n * classes + c] / T;
      teacherScaled[n * classes + c] = teacher[samples[n] * classes + c] / T;
    }
  }
  const student = softmaxRows(scaled, classes);
  const target = softmaxRows(teacherScaled, classes);
  let loss = 0;
  for (let n = 0; n < batch; n++) {
    const label = n * classes + labels[n];
    loss -= Math.log(Math.max(grad[label], 1e-30));
    grad[label] -= 1;
    for (let c = n * classes; c < (n + 1) * classes; c++) {
      if (target[c] > 0) loss += d.weight * T * T * target[c] * (Math.log(target[c]) - Math.log(Math.max(student[c], 1e-30)));
      grad[c] += d.weight * T * (student[c] - target[c]);
    }
  }
  for (let i = 0; i < grad.length; i++) grad[i] /= batch;
  return { loss: loss / batch, grad };
}
