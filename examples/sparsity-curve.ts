// Accuracy vs sparsity of the reference models (MNIST), pruned over their 1x1 convolutions and
// fully connected layers with gradual magnitude pruning and fine-tuning (src/compiler/prune.ts),
// in fp32 and in int8 (post-training quantization, then the device runtime over the 2,000
// held-out digits). Prints a table, then one JSON line, and writes an SVG chart of the curve.
//
//   npx tsx examples/sparsity-curve.ts [--models cnn,mlp] [--sparsities 0.5,0.7,0.8,0.9,0.95]
//     [--groups 1,4] [--epochs 3] [--train-digits 4000] [--allocation global]
//     [--distill 4] [--qat-epochs 1] [--ramp 0.5] [--svg file]
//
// JSON line fields: example, testDigits, trainDigits, epochs, allocation, ramp, learningRate
// (a number, or 'trained': each model's own training rate), distillation
// ({ temperature, weight } or null), quantizationAwareEpochs, seconds, svg, and
// points[]: { model, group (block height asked for; a layer whose outC it does not divide uses
// the largest that does, see `patterns`), patterns (per pruned layer), sparsity (asked),
// achievedSparsity (zero fraction of the pruned layers' weights), weights (in the pruned
// layers), weightsKept, fp32Accuracy, int8Accuracy (device runtime) }. Sparsity 0 is the
// unpruned model (no fine-tuning).
import { writeFileSync } from 'node:fs';
import { cliTable } from '../targets/node/table.js';
import { Command } from 'commander';
import { pruneGraph, type Allocation, type GroupSize } from '../src/compiler/prune.js';
import { pruneLayers } from '../src/compiler/prune/layers.js';
import { evaluate } from '../src/compiler/train_fp32.js';
import { take } from '../src/host/datasets/mnist.js';
import { int8Accuracy } from '../targets/node/prune_command.js';
import { CALIBRATION_DIGITS, referenceData, referenceGraph, type ReferenceName } from '../targets/node/reference.js';

/** Adam rates of scripts/train-reference.ts (also in each model file's meta.training). */
const TRAINED_LEARNING_RATE: Record<ReferenceName, number> = { 'reference-cnn': 0.02, 'reference-mlp': 1e-3 };

const list = (v: string): number[] => v.split(',').map(Number);
const o = new Command()
  .option('--models <names>', 'cnn, mlp or both', 'cnn,mlp')
  .option('--sparsities <list>', 'target sparsities of the pruned layers', '0.5,0.7,0.8,0.9,0.95')
  .option('--groups <list>', 'block heights (output channels per block)', '1,4')
  .option('--epochs <n>', 'fine-tuning epochs per point', '3')
  .option('--train-digits <n>', 'fine-tuning digits (of 8,000)', '4000')
  .option('--allocation <how>', 'uniform, global or sensitivity', 'global')
  .option('--lr <rate>', 'Adam learning rate, cosine decay (default: the rate each model was trained with)')
  .option('--ramp <fraction>', 'fraction of the fine-tuning steps over which sparsity ramps; the rest hold it', '0.5')
  .option('--distill <T>', 'distil from the unpruned model at temperature T (0: plain cross-entropy)', '4')
  .option('--qat-epochs <n>', 'last n epochs quantization-aware (int8-rounded weights and activations)', '1')
  .option('--seed <n>', 'fine-tuning seed', '1')
  .option('--svg <file>', 'chart to write', 'sparsity-curve.svg')
  .parse()
  .opts<{ models: string; sparsities: string; groups: string; epochs: string; trainDigits: string; allocation: Allocation; lr?: string; ramp: string; distill: string; qatEpochs: string; seed: string; svg: string }>();
const distillation = Number(o.distill) > 0 ? { temperature: Number(o.distill), weight: 1 } : undefined;

interface Point {
  model: string;
  group: number;
  patterns: string[];
  sparsity: number;
  achievedSparsity: number;
  weights: number;
  weightsKept: number;
  fp32Accuracy: number;
  int8Accuracy: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  const data = referenceData();
  const train = take(data.train, Number(o.trainDigits));
  const calibration = take(data.train, CALIBRATION_DIGITS).images;
  const points: Point[] = [];
  const table = cliTable({ head: ['model', 'group', 'sparsity', 'weights kept', 'fp32 %', 'int8 % (device)', 'patterns'] });
  for (const short of o.models.split(',')) {
    const model = `reference-${short}` as ReferenceName;
    const graph = referenceGraph(model);
    const learningRate = o.lr ? Number(o.lr) : TRAINED_LEARNING_RATE[model];
    const dense = { fp32: evaluate(graph, data.test).accuracy, int8: await int8Accuracy(graph, calibration, data.test) };
    for (const group of list(o.groups)) {
      const add = (p: Point): void => {
        points.push(p);
        table.push([p.model, `g${p.group}`, `${(100 * p.achievedSparsity).toFixed(1)} %`, `${p.weightsKept} / ${p.weights}`,
          (100 * p.fp32Accuracy).toFixed(2), (100 * p.int8Accuracy).toFixed(2), p.patterns.join(' ')]);
      };
      const layers = pruneLayers(graph, 'group', group as GroupSize);
      const weights = layers.reduce((n, l) => n + l.outC * l.inC, 0);
      add({ model, group, patterns: layers.map((l) => `${l.node.name}:g${l.group}`), sparsity: 0, achievedSparsity: 0, weights, weightsKept: weights, fp32Accuracy: dense.fp32, int8Accuracy: dense.int8 });
      for (const sparsity of list(o.sparsities)) {
        const r = pruneGraph(graph, { train, test: data.test }, {
          sparsity, group: group as GroupSize, allocation: o.allocation, epochs: Number(o.epochs),
          rampSteps: Math.max(1, Math.round(Number(o.ramp) * Number(o.epochs) * Math.ceil(train.count / 32))),
          training: { learningRate }, distillation, quantizationAwareEpochs: Number(o.qatEpochs), seed: Number(o.seed),
        });
        add({
          model, group, patterns: r.layers.map((l) => `${l.layer}:${l.pattern}`), sparsity, achievedSparsity: r.sparsity, weights,
          weightsKept: r.layers.reduce((n, l) => n + l.kept, 0),
          fp32Accuracy: r.history[r.history.length - 1].testAccuracy!, int8Accuracy: await int8Accuracy(r.graph, calibration, data.test),
        });
        console.error(`${model} g${group} ${sparsity}: fp32 ${points[points.length - 1].fp32Accuracy} int8 ${points[points.length - 1].int8Accuracy}`);
      }
    }
  }
  writeFileSync(o.svg, chart(points));
  console.log(table.toString());
  console.log(JSON.stringify({
    example: 'sparsity-curve', testDigits: data.test.count, trainDigits: train.count, epochs: Number(o.epochs), allocation: o.allocation, ramp: Number(o.ramp), learningRate: o.lr ? Number(o.lr) : 'trained',
    distillation: distillation ?? null, quantizationAwareEpochs: Number(o.qatEpochs),
    seconds: +((performance.now() - started) / 1000).toFixed(1), svg: o.svg, points,
  }));
}

/** A line chart: x = achieved sparsity, y = held-out accuracy; one colour per (model, group), int8 dashed. */
function chart(points: Point[]): string {
  const W = 720, H = 440, L = 60, R = 230, T = 30, B = 50;
  const acc = points.flatMap((p) => [p.fp32Accuracy, p.int8Accuracy]);
  const yMin = Math.max(0, Math.floor(Math.min(...acc) * 10) / 10);
  const x = (s: number): number => L + s * (W - L - R);
  const y = (a: number): number => T + (1 - (a - yMin) / (1 - yMin)) * (H - T - B);
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const series = [...new Set(points.map((p) => `${p.model} g${p.group}`))];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="18" font-size="14">Held-out MNIST accuracy vs sparsity of the 1x1 conv and FC layers</text>`,
  ];
  for (let s = 0; s <= 1.0001; s += 0.1) {
    out.push(`<line x1="${x(s)}" y1="${T}" x2="${x(s)}" y2="${H - B}" stroke="#eee"/>`, `<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle">${Math.round(s * 100)}%</text>`);
  }
  for (let a = yMin; a <= 1.0001; a += (1 - yMin) / 5) {
    out.push(`<line x1="${L}" y1="${y(a)}" x2="${W - R}" y2="${y(a)}" stroke="#eee"/>`, `<text x="${L - 6}" y="${y(a) + 4}" text-anchor="end">${(a * 100).toFixed(0)}%</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">sparsity (zero weights in the pruned layers)</text>`);
  series.forEach((name, k) => {
    const ps = points.filter((p) => `${p.model} g${p.group}` === name).sort((a, b) => a.achievedSparsity - b.achievedSparsity);
    const colour = colours[k % colours.length];
    for (const [key, dash, label] of [['fp32Accuracy', '', 'fp32'], ['int8Accuracy', ' stroke-dasharray="5 4"', 'int8']] as const) {
      const path = ps.map((p) => `${x(p.achievedSparsity).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
      for (const p of ps) out.push(`<circle cx="${x(p.achievedSparsity).toFixed(1)}" cy="${y(p[key]).toFixed(1)}" r="2.5" fill="${colour}"/>`);
      const ly = T + 18 * (2 * k + (label === 'int8' ? 1 : 0));
      out.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 45}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`, `<text x="${W - R + 52}" y="${ly + 4}">${name} ${label}</text>`);
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
