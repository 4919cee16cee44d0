// The reference models every benchmark and experiment uses (28x28x1 MNIST digits).

import { Random } from '../host/random.js';
import { ModelBuilder } from './builder.js';
import type { Graph } from './graph.js';

/**
 * A MobileNet-style CNN with 1,338 parameters:
 * conv3x3/2 8 -> dw3x3 -> pw16 -> dw3x3/2 -> pw32 (all SAME, ReLU) -> global avg pool -> fc 10.
 * Output: logits [10]. `width` multiplies every channel count: 2 gives 'reference-cnn-wide'
 * (3,946 parameters), the distillation teacher of docs/pruning.md.
 */
export function referenceCnn(seed: number, width = 1): Graph {
  const b = new ModelBuilder(width === 1 ? 'reference-cnn' : width === 2 ? 'reference-cnn-wide' : `reference-cnn-x${width}`, [28, 28, 1]);
  let x = b.input();
  x = b.conv2d(x, { filters: 8 * width, kernel: 3, stride: 2, padding: 'same', activation: 'relu', name: 'conv1' });
  x = b.depthwise(x, { kernel: 3, padding: 'same', activation: 'relu', name: 'dw1' });
  x = b.pointwise(x, { filters: 16 * width, activation: 'relu', name: 'pw1' });
  x = b.depthwise(x, { kernel: 3, stride: 2, padding: 'same', activation: 'relu', name: 'dw2' });
  x = b.pointwise(x, { filters: 32 * width, activation: 'relu', name: 'pw2' });
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

/**
 * Channel rounding of the MobileNetV2 reference implementation (TensorFlow's and PyTorch's
 * `_make_divisible`): round `v` to the nearest multiple of `divisor` (at least `divisor`),
 * and go one step up when rounding down lost more than 10 %.
 */
export function makeDivisible(v: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * v ? rounded + divisor : rounded;
}

/**
 * MobileNetV2 (Sandler et al. 2018) at width multiplier `alpha`, a square `resolution` x
 * `resolution` x 3 input and `classes` outputs. Layout as in the reference implementation
 * used by the Tiny Training Engine: conv3x3/2 -> 17 inverted residual blocks (t, c, n, s) =
 * (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1) -> conv1x1
 * 1280 (kept at 1280 for alpha <= 1) -> global average pool -> fc `classes`. A block is
 * expand 1x1 (ReLU6; absent when t = 1) -> depthwise 3x3 (ReLU6) -> project 1x1 (linear),
 * plus a residual add when t > 1, stride 1 and the channel count is unchanged. Channel counts
 * are `makeDivisible(c * alpha)`. BatchNorm is taken as folded into the convolutions.
 * Node names: conv1, b{i}_expand, b{i}_dw, b{i}_project, b{i}_add (i = 1..17), conv_last, gap, fc.
 * He-initialised random weights (for memory and speed figures, not accuracy).
 */
export function mobilenetV2(seed: number, alpha = 0.35, resolution = 128, classes = 1000): Graph {
  const b = new ModelBuilder(`mobilenet-v2-${alpha}-${resolution}`, [resolution, resolution, 3]);
  let x = b.input();
  let channels = makeDivisible(32 * alpha);
  x = b.conv2d(x, { filters: channels, kernel: 3, stride: 2, padding: 'same', activation: 'relu6', name: 'conv1' });
  const stages: [number, number, number, number][] = [
    [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
  ];
  let block = 0;
  for (const [t, c, n, s] of stages) {
    const out = makeDivisible(c * alpha);
    for (let i = 0; i < n; i++) {
      block++;
      const stride = i === 0 ? s : 1;
      const blockInput = x;
      if (t !== 1) x = b.pointwise(x, { filters: channels * t, activation: 'relu6', name: `b${block}_expand` });
      x = b.depthwise(x, { kernel: 3, stride, padding: 'same', activation: 'relu6', name: `b${block}_dw` });
      x = b.pointwise(x, { filters: out, name: `b${block}_project` });
      if (t !== 1 && stride === 1 && channels === out) x = b.add(x, blockInput, { name: `b${block}_add` });
      channels = out;
    }
  }
  const last = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = b.pointwise(x, { filters: last, activation: 'relu6', name: 'conv_last' });
  x = b.globalAvgPool(x, { name: 'gap' });
  x = b.fullyConnected(x, { units: classes, name: 'fc' });
  return b.build(x, new Random(seed));
}
