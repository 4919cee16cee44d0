// The reference models every benchmark and experiment uses (28x28x1 MNIST digits).

import { Random } from '../host/random.js';
import { ModelBuilder } from './builder.js';
import type { Graph } from './graph.js';

/**
 * A MobileNet-style CNN with 1,338 parameters:
 * conv3x3/2 8 -> dw3x3 -> pw16 -> dw3x3/2 -> pw32 (all SAME, ReLU) -> global avg pool -> fc 10.
 * Output: logits [10].
 */
export function referenceCnn(seed: number): Graph {
  const b = new ModelBuilder('reference-cnn', [28, 28, 1]);
  let x = b.input();
  x = b.conv2d(x, { filters: 8, kernel: 3, stride: 2, padding: 'same', activation: 'relu', name: 'conv1' });
  x = b.depthwise(x, { kernel: 3, padding: 'same', activation: 'relu', name: 'dw1' });
  x = b.pointwise(x, { filters: 16, activation: 'relu', name: 'pw1' });
  x = b.depthwise(x, { kernel: 3, stride: 2, padding: 'same', activation: 'relu', name: 'dw2' });
  x = b.pointwise(x, { filters: 32, activation: 'relu', name: 'pw2' });
  x = b.globalAvgPool(x, { name: 'gap' });
  x = b.fullyConnected(x, { units: 10, name: 'fc' });
  return b.build(x, new Random(seed));
}

/** A 784-128-10 perceptron with 101,770 parameters (ReLU hidden layer). Output: logits [10]. */
export function referenceMlp(seed: number): Graph {
  const b = new ModelBuilder('reference-mlp', [784]);
  let x = b.input();
  x = b.fullyConnected(x, { units: 128, activation: 'relu', name: 'fc1' });
  x = b.fullyConnected(x, { units: 10, name: 'fc2' });
  return b.build(x, new Random(seed));
}

/**
 * MobileNetV1 (Howard et al. 2017) at width multiplier `alpha` and a square input of
 * `resolution` pixels, 3 channels: conv3x3/2 -> 13 x (dw3x3 + pw1x1, ReLU6) -> global average
 * pool -> fc `classes`. He-initialised (random weights: for memory and speed, not accuracy).
 */
export function mobilenetV1(seed: number, alpha = 0.25, resolution = 96, classes = 1000): Graph {
  const width = (c: number): number => Math.max(8, Math.round(c * alpha));
  const b = new ModelBuilder(`mobilenet-v1-${alpha}-${resolution}`, [resolution, resolution, 3]);
  let x = b.input();
  x = b.conv2d(x, { filters: width(32), kernel: 3, stride: 2, padding: 'same', activation: 'relu6', name: 'conv1' });
  const blocks: [number, number][] = [
    [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
    [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
  ];
  blocks.forEach(([filters, stride], i) => {
    x = b.depthwise(x, { kernel: 3, stride, padding: 'same', activation: 'relu6', name: `dw${i + 1}` });
    x = b.pointwise(x, { filters: width(filters), activation: 'relu6', name: `pw${i + 1}` });
  });
  x = b.globalAvgPool(x, { name: 'gap' });
  x = b.fullyConnected(x, { units: classes, name: 'fc' });
  return b.build(x, new Random(seed));
}
