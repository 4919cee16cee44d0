// `npm start`: the main job on the built-in default. The reference MNIST CNN in fp32 ->
// int8 (post-training quantization) -> planned for a simulated stm32f746 -> int8 inference
// on the device runtime over 2,000 held-out digits. Prints a table, then one JSON line.
import { statSync } from 'node:fs';
import { cliTable } from './table.js';
import { getDevice } from '../../src/compiler/devices.js';
import { estimateLatency } from '../../src/compiler/latency.js';
import { predict } from '../../src/compiler/engine.js';
import { countCorrect } from '../../src/compiler/train_fp32.js';
import { Model } from '../../src/host/model.js';
import { Session } from '../../src/host/session.js';
import { bestBuild } from '../../src/host/runtime.js';
import { MNIST_CLASSES, MNIST_PIXELS } from '../../src/host/datasets/mnist.js';
import { referenceData, referenceQModel } from './reference.js';

const DEVICE = 'stm32f746';
const MODEL = 'reference-cnn';

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const device = getDevice(DEVICE);
  const data = referenceData();
  const test = data.test;
  const { graph, qmodel } = referenceQModel(MODEL, data);

  const fp32Logits = predict(graph, test.images, test.count);
  const fp32Accuracy = countCorrect(fp32Logits, test.labels, test.count, MNIST_CLASSES) / test.count;

  const model = Model.compile(qmodel, { device });
  const build = bestBuild();
  const session = await Session.create(model, { device, build });
  const mvp = build === 'mvp' ? session : await Session.create(model, { device, build: 'mvp' });

  let correct = 0;
  let matchesMvp = true;
  const times: number[] = [];
  for (let i = 0; i < test.count; i++) {
    const image = test.images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
    const t0 = performance.now();
    const [out] = session.run(image);
    times.push((performance.now() - t0) * 1000);
    if (argmax(out) === test.labels[i]) correct++;
    if (mvp !== session) {
      const [ref] = mvp.run(image);
      if (ref.some((v, j) => v !== out[j])) matchesMvp = false;
    }
  }
  const int8Accuracy = correct / test.count;
  const memory = session.memory();
  const latency = estimateLatency(model.report!, device);
  const wasmBytes = Object.fromEntries(
    ['sparrow.mvp', 'sparrow.simd', 'sparrow.wasi'].map((name) => [name, statSync(new URL(`../../build/${name}.wasm`, import.meta.url)).size]),
  );

  const table = cliTable({ head: ['', MODEL] });
  table.push(
    ['device', `${device.name} (${device.core}, ${device.clockHz / 1e6} MHz, ${device.sramBytes / 1024} KB SRAM, ${device.flashBytes / 1024} KB flash)`],
    ['held-out digits', String(test.count)],
    ['fp32 accuracy', `${(fp32Accuracy * 100).toFixed(2)} %`],
    ['int8 accuracy', `${(int8Accuracy * 100).toFixed(2)} % (${build} build${mvp !== session ? `; mvp identical: ${matchesMvp}` : ''})`],
    ['planned SRAM (arena)', `${memory.plannedBytes} B of ${memory.budgetBytes} B budget`],
    ['measured high-water', `${memory.highWaterBytes} B (${Object.entries(memory.byCategory).map(([k, v]) => `${k} ${v} B`).join(', ')})`],
    ['flash (container)', `${memory.flashBytes} B`],
    ['estimated latency on board', `${latency.totalUs.toFixed(0)} µs`],
    ['latency here (median per call)', `${median(times).toFixed(1)} µs`],
    ['.wasm sizes', Object.entries(wasmBytes).map(([k, v]) => `${k} ${v} B`).join(', ')],
  );
  console.log(table.toString());
  console.log(
    JSON.stringify({
      model: MODEL,
      device: device.name,
      build,
      testDigits: test.count,
      fp32Accuracy,
      int8Accuracy,
      int8MatchesMvp: matchesMvp,
      plannedSramBytes: memory.plannedBytes,
      measuredHighWaterBytes: memory.highWaterBytes,
      sramBudgetBytes: memory.budgetBytes,
      flashBytes: memory.flashBytes,
      estimatedLatencyUs: Math.round(latency.totalUs),
      hostLatencyUs: Number(median(times).toFixed(2)),
      wasmBytes,
    }),
  );
  if (memory.highWaterBytes !== memory.plannedBytes) {
    console.error(`planned ${memory.plannedBytes} B but measured ${memory.highWaterBytes} B`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
