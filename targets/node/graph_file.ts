// fp32 graph files (`sparrow prune -o`, models/*.json) where the CLI expects an int8 model:
// post-training quantization calibrated on the first CALIBRATION_DIGITS training digits of our
// MNIST split, as `sparrow prune --int8` measures them. Only graphs that read one digit
// (28x28x1, or 784 values) can be calibrated this way.
import type { Graph } from '../../src/compiler/graph.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { GRAPH_FORMAT } from '../../src/compiler/serialize.js';
import type { QModel } from '../../src/formats/qmodel.js';
import { ShapeError } from '../../src/formats/errors.js';
import { MNIST_PIXELS, take } from '../../src/host/datasets/mnist.js';
import { CALIBRATION_DIGITS, referenceData } from './reference.js';

/** True when the JSON text is a fp32 graph file (its `format` field), not a model description. */
export function isGraphFile(text: string): boolean {
  const json = JSON.parse(text) as { format?: unknown };
  return json.format === GRAPH_FORMAT;
}

/** The int8 model of a digit graph; a graph of any other input throws ShapeError. */
export function fp32GraphToQModel(graph: Graph): QModel {
  const input = graph.nodes[0].shape;
  if (input.reduce((a, b) => a * b, 1) !== MNIST_PIXELS) {
    throw new ShapeError(`graph ${graph.name}: input [${input}] is not a 28x28 digit; only digit graphs are calibrated automatically (quantize others with quantizeGraph and a calibration set)`);
  }
  return quantizeGraph(graph, take(referenceData().train, CALIBRATION_DIGITS).images);
}
