// Seeded fp32 training of a graph whose output is logits: softmax cross-entropy,
// mini-batches, Adam (default) or SGD with momentum, optional cosine learning-rate decay.
// Parameters are updated in place; the same graph, data, options and seed give the same
// weights and history bit for bit.

import { ShapeError } from '../formats/errors.js';
import { Random } from '../host/random.js';
import { backward, forward, outputOf, predict, type ForwardPass } from './engine.js';
import { softmaxCrossEntropy, type LossResult } from './fp32/index.js';
import { parameters, size, type Graph, type Param } from './graph.js';

/** Samples packed one after another (count * inputSize floats), integer labels. */
export interface Dataset {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface TrainOptions {
  epochs: number;
  /** Default 32. The last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Default 'adam'. */
  optimizer?: 'adam' | 'sgd';
  /** Default 1e-3 for Adam, 0.05 for SGD. */
  learningRate?: number;
  /** 'cosine' decays to 0 over all steps; default 'constant'. */
  schedule?: 'constant' | 'cosine';
  /** SGD momentum (heavy ball); default 0.9. */
  momentum?: number;
  /** Adam moments; defaults 0.9, 0.999, 1e-8. */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Seed of the per-epoch shuffle. */
  seed: number;
  /** Evaluated after every epoch when given. */
  test?: Dataset;
  /** Called after every epoch (progress reporting). */
  onEpoch?: (record: EpochRecord) => void;
  /**
   * Called after every optimizer step with the number of steps done so far (1-based, counted
   * over all epochs). It may modify the parameters in place, e.g. to re-apply pruning masks
   * so that pruned weights stay exactly 0.
   */
  afterStep?: (step: number) => void;
  /**
   * Replaces softmax cross-entropy: the mean loss of the batch and dL/dlogits. `samples[i]` is
   * the index in `train` of batch row i (e.g. to look up cached teacher logits).
   */
  loss?: (logits: Float32Array, labels: Uint8Array, samples: Int32Array) => LossResult;
  /**
   * Replaces engine.forward for the training steps (`step` = steps done so far), e.g. a
   * fake-quantized forward. It may swap other values into the parameters (fake-quantized
   * weights) if beforeUpdate puts the originals back: the gradient of that pass is then
   * applied to the originals (a straight-through estimator).
   */
  forward?: (graph: Graph, input: Float32Array, batch: number, step: number) => ForwardPass;
  /** Called after the backward pass, before the optimizer update. */
  beforeUpdate?: (step: number) => void;
}

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's batches (weights change during the epoch). */
  loss: number;
  /** Fraction of training samples classified right while training. */
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
}

/** The settings a training run actually used (defaults filled in), for artifacts. */
export function resolvedSettings(o: TrainOptions): Required<Omit<TrainOptions, 'test' | 'onEpoch' | 'afterStep' | 'loss' | 'forward' | 'beforeUpdate'>> {
  const optimizer = o.optimizer ?? 'adam';
  return {
    epochs: o.epochs, batchSize: o.batchSize ?? 32, optimizer,
    learningRate: o.learningRate ?? (optimizer === 'adam' ? 1e-3 : 0.05), schedule: o.schedule ?? 'constant',
    momentum: o.momentum ?? 0.9, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, epsilon: o.epsilon ?? 1e-8, seed: o.seed,
  };
}

/** Trains `graph` in place on `train`; returns one record per epoch. */
export function trainFp32(graph: Graph, train: Dataset, options: TrainOptions): EpochRecord[] {
  const s = resolvedSettings(options);
  const inputSize = size(graph.nodes[0].shape);
  const classes = size(graph.nodes.find((n) => n.name === graph.output)!.shape);
  if (train.images.length !== train.count * inputSize) {
    throw new ShapeError(`training set holds ${train.images.length} values, expected ${train.count} x ${inputSize}`);
  }
  const rng = new Random(s.seed);
  const optimizer = s.optimizer === 'adam' ? new Adam(parameters(graph), s.beta1, s.beta2, s.epsilon) : new Sgd(parameters(graph), s.momentum);
  const stepsPerEpoch = Math.ceil(train.count / s.batchSize);
  const totalSteps = s.epochs * stepsPerEpoch;
  const batchImages = new Float32Array(s.batchSize * inputSize);
  const batchLabels = new Uint8Array(s.batchSize);
  const batchSamples = new Int32Array(s.batchSize);
  const history: EpochRecord[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= s.epochs; epoch++) {
    const order = rng.permutation(train.count);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < train.count; start += s.batchSize) {
      const n = Math.min(s.batchSize, train.count - start);
      for (let i = 0; i < n; i++) {
        const k = order[start + i];
        batchImages.set(train.images.subarray(k * inputSize, (k + 1) * inputSize), i * inputSize);
        batchLabels[i] = train.labels[k];
        batchSamples[i] = k;
      }
      const input = batchImages.subarray(0, n * inputSize);
      const pass = options.forward ? options.forward(graph, input, n, step) : forward(graph, input, n);
      const logits = outputOf(pass);
      const labels = batchLabels.subarray(0, n);
      const { loss, grad } = options.loss ? options.loss(logits, labels, batchSamples.subarray(0, n)) : softmaxCrossEntropy(logits, labels, classes);
      lossSum += loss * n;
      correct += countCorrect(logits, batchLabels, n, classes);
      const lr = s.schedule === 'cosine' ? 0.5 * s.learningRate * (1 + Math.cos((Math.PI * step) / totalSteps)) : s.learningRate;
      const grads = backward(pass, grad).params;
      options.beforeUpdate?.(step);
      optimizer.step(grads, lr);
      step++;
      options.afterStep?.(step);
    }
    const record: EpochRecord = { epoch, loss: lossSum / train.count, trainAccuracy: correct / train.count };
    if (options.test) {
      const e = evaluate(graph, options.test);
      record.testLoss = e.loss;
      record.testAccuracy = e.accuracy;
    }
    history.push(record);
    options.onEpoch?.(record);
  }
  return history;
}

/** Mean softmax cross-entropy and top-1 accuracy of `graph` (logits output) on `data`. */
export function evaluate(graph: Graph, data: Dataset, batchSize = 256): { loss: number; accuracy: number } {
  const classes = size(graph.nodes.find((n) => n.name === graph.output)!.shape);
  const logits = predict(graph, data.images, data.count, batchSize);
  const { loss } = softmaxCrossEntropy(logits, data.labels, classes);
  return { loss, accuracy: countCorrect(logits, data.labels, data.count, classes) / data.count };
}

/** Rows of `logits` [n, classes] whose largest entry (first on ties) is the label. */
export function countCorrect(logits: Float32Array, labels: ArrayLike<number>, n: number, classes: number): number {
  let correct = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    if (best === labels[r]) correct++;
  }
  return correct;
}

interface Optimizer {
  /** Applies one update with learning rate `lr` from gradients keyed by Param.name. */
  step(grads: Map<string, Float32Array>, lr: number): void;
}

/** SGD with heavy-ball momentum: v = momentum * v + g; w -= lr * v. */
class Sgd implements Optimizer {
  private readonly velocity: Float32Array[];
  constructor(private readonly params: Param[], private readonly momentum: number) {
    this.velocity = params.map((p) => new Float32Array(p.data.length));
  }
  step(grads: Map<string, Float32Array>, lr: number): void {
    this.params.forEach((p, k) => {
      const g = grads.get(p.name);
      if (!g) return;
      const v = this.velocity[k];
      for (let i = 0; i < v.length; i++) {
        v[i] = this.momentum * v[i] + g[i];
        p.data[i] -= lr * v[i];
      }
    });
  }
}

/** Adam (Kingma & Ba) with bias-corrected moments. */
class Adam implements Optimizer {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  constructor(private readonly params: Param[], private readonly beta1: number, private readonly beta2: number, private readonly epsilon: number) {
    this.m = params.map((p) => new Float32Array(p.data.length));
    this.v = params.map((p) => new Float32Array(p.data.length));
  }
  step(grads: Map<string, Float32Array>, lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    this.params.forEach((p, k) => {
      const g = grads.get(p.name);
      if (!g) return;
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < m.length; i++) {
        m[i] = this.beta1 * m[i] + (1 - this.beta1) * g[i];
        v[i] = this.beta2 * v[i] + (1 - this.beta2) * g[i] * g[i];
        p.data[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.epsilon);
      }
    });
  }
}
