// `npm run bench`: every benchmark, one JSON object per line
// ({"what","build","shape","median","min","max","unit"}): per-kernel throughput scalar vs
// SIMD, the reference CNN and MLP at batch 1 on both builds, and the .wasm sizes.
// Progress goes to stderr so stdout stays machine-readable.
import { statSync } from 'node:fs';
import { benchMacKernels } from './kernels_mac.js';
import { benchMiscKernels } from './kernels_misc.js';
import { benchExpandDepthwise } from './expand_depthwise.js';
import { benchTrainKernels } from './kernels_train.js';
import { benchSparseKernels } from './kernels_sparse.js';
import { benchSparseModels } from './sparse_models.js';
import { benchTrainStep } from './train_step.js';
import { benchModel } from '../targets/node/bench_model.js';
import { getDevice } from '../src/compiler/devices.js';
import { Model } from '../src/host/model.js';
import { referenceData, referenceQModel } from '../targets/node/reference.js';

const print = (line: object) => console.log(JSON.stringify(line));

for (const name of ['sparrow.mvp', 'sparrow.simd', 'sparrow.wasi', 'sparrow-train.mvp', 'sparrow-train.simd', 'kernels.mvp', 'kernels.simd', 'train_kernels.mvp', 'train_kernels.simd']) {
  const bytes = statSync(new URL(`../build/${name}.wasm`, import.meta.url)).size;
  print({ what: `wasm-size/${name}`, shape: '-', median: bytes, min: bytes, max: bytes, unit: 'B' });
}

const data = referenceData();
for (const name of ['reference-cnn', 'reference-mlp'] as const) {
  console.error(`bench: ${name}`);
  const model = Model.compile(referenceQModel(name, data).qmodel, { device: getDevice('stm32f746') });
  for (const line of await benchModel(model, { name, runs: 4000 })) print(line);
}

console.error('bench: MAC kernels');
for (const line of await benchMacKernels()) print(line);
console.error('bench: expand -> depthwise, streamed vs unfused');
for (const line of benchExpandDepthwise()) print(line);
console.error('bench: elementwise, pooling, softmax, quantize kernels');
for (const line of benchMiscKernels()) print(line);
console.error('bench: pruned models, dense vs the sparse choice of the compiler');
for (const line of await benchSparseModels()) print(line);
console.error('bench: group-sparse kernels vs dense');
for (const line of benchSparseKernels()) print(line);
console.error('bench: training kernels');
for (const line of benchTrainKernels()) print(line);
console.error('bench: train steps of the reference CNN');
for (const line of await benchTrainStep()) print(line);
