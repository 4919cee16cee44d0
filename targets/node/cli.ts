// The `sparrow` command line: pack, unpack, plan, run, bench.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { SparrowError } from '../../src/formats/errors.js';
import { DEVICES, getDevice } from '../../src/compiler/devices.js';
import { parseModelJson, modelToJson } from '../../src/formats/model_json.js';
import { raiseContainer } from '../../src/compiler/raise.js';
import type { SparseMode, TargetBuild } from '../../src/compiler/lower_sparse.js';
import { Model } from '../../src/host/model.js';
import { Session, type TensorData } from '../../src/host/session.js';
import { readNpy, writeNpy } from '../../src/host/npy.js';
import { printPlan } from './plan_report.js';
import { benchModel } from './bench_model.js';
import { definePruneCommand } from './prune_command.js';
import { fp32GraphToQModel, isGraphFile } from './graph_file.js';
import { loadGraph } from '../../src/compiler/serialize.js';
import { defineTrainCommand, planTrainCommand } from './train_command.js';

interface CompileFlags {
  device: string;
  sparse?: SparseMode;
  target?: TargetBuild;
}

/**
 * A .json file is compiled for the device: a model description (int8), or a fp32 graph file
 * (what `sparrow prune -o` writes), quantized first (fp32GraphToQModel). Anything else is read
 * as a container.
 */
function loadModel(path: string, o: CompileFlags): Model {
  const bytes = readFileSync(path);
  if (!path.endsWith('.json')) return Model.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const text = bytes.toString('utf8');
  const qmodel = isGraphFile(text) ? fp32GraphToQModel(loadGraph(JSON.parse(text))) : parseModelJson(text);
  return Model.compile(qmodel, compileOptions(o));
}

function compileOptions(o: CompileFlags) {
  return { device: getDevice(o.device), sparse: o.sparse, build: o.target };
}

const deviceOption = () => new Option('-d, --device <name>', 'device profile').choices(Object.keys(DEVICES)).default('stm32f746');
const sparseOption = () => new Option('--sparse <mode>', 'group-sparse 1x1/FC layers: by measured cost, or forced').choices(['auto', 'never', 'always']).default('auto');
const targetOption = () => new Option('--target <build>', 'executor build the dense/sparse choice is priced for').choices(['mvp', 'simd']).default('mvp');
const buildOption = () => new Option('-b, --build <build>', 'executor build').choices(['auto', 'mvp', 'simd']).default('auto');

const program = new Command('sparrow')
  .description('Sparrow: int8 inference inside a microcontroller memory budget, in WebAssembly')
  .showHelpAfterError();

program
  .command('pack')
  .description('compile a JSON model description into a container')
  .argument('<model.json>', 'a JSON model description, or a fp32 graph file (quantized on MNIST digits)')
  .requiredOption('-o, --output <file.spw>', 'container to write')
  .addOption(deviceOption())
  .addOption(sparseOption())
  .addOption(targetOption())
  .action((input: string, o: CompileFlags & { output: string }) => {
    const model = loadModel(input, o);
    writeFileSync(o.output, model.bytes);
    console.log(`${o.output}: ${model.bytes.length} B, arena ${model.arenaBytes} B planned for ${o.device}`);
  });

program
  .command('unpack')
  .description('print (or write) the JSON description of a container')
  .argument('<model.spw>')
  .option('-o, --output <file.json>', 'write the JSON here instead of stdout')
  .action((input: string, o: { output?: string }) => {
    const json = modelToJson(raiseContainer(loadModel(input, { device: 'stm32f746' }).container));
    if (o.output) writeFileSync(o.output, json);
    else process.stdout.write(json + '\n');
  });

program
  .command('plan')
  .description('show the memory plan: buffers, timeline, budget and latency on a device')
  .argument('[model]', 'a container (.spw), a JSON model description or a fp32 graph file (.json); optional with --train')
  .addOption(deviceOption())
  .addOption(sparseOption())
  .addOption(targetOption())
  .option('--json', 'print the plan as JSON')
  .option('--train <auto|recipe.json>', 'plan a train step instead: the scheme search\'s choice (auto) or a recipe')
  .action((input: string | undefined, o: CompileFlags & { json?: boolean; train?: string }) => {
    if (o.train) return void planTrainCommand(input, { device: o.device, train: o.train, json: o.json });
    if (!input) return program.error('error: missing required argument \'model\'');
    // a container is raised back to its model and compiled again: the same records, plus the report
    const model = input.endsWith('.json') ? loadModel(input, o) : Model.compile(raiseContainer(loadModel(input, o).container), compileOptions(o));
    printPlan(model, getDevice(o.device), { json: !!o.json });
  });

program
  .command('run')
  .description('run inference on .npy inputs')
  .argument('<model>', 'a container (.spw) or a JSON model description (.json)')
  .requiredOption('-i, --input <file.npy...>', 'one .npy per graph input (int8 or float32)')
  .option('-o, --output <file.npy...>', 'where to write the outputs (default: print them)')
  .addOption(deviceOption())
  .addOption(buildOption())
  .action(async (input: string, o: { input: string[]; output?: string[]; device: string; build: 'auto' | 'mvp' | 'simd' }) => {
    const model = loadModel(input, o);
    const session = await Session.create(model, { device: o.device, build: o.build });
    const inputs = o.input.map((f) => readNpy(readFileSync(f)).data as TensorData);
    const outputs = session.run(inputs);
    outputs.forEach((out, i) => {
      const info = session.outputs[i];
      if (o.output?.[i]) writeFileSync(o.output[i], writeNpy(out as Float32Array, info.shape));
      else console.log(`${info.name} [${info.shape}] ${info.dtype}: ${Array.from(out).map((v) => +v.toFixed(6)).join(' ')}`);
    });
    const m = session.memory();
    console.error(`arena: planned ${m.plannedBytes} B, measured ${m.highWaterBytes} B (${session.build} build)`);
  });

program
  .command('bench')
  .description('time inference of a model (default: the reference CNN) on both builds')
  .argument('[model]', 'a container (.spw) or a JSON model description (.json)')
  .addOption(deviceOption())
  .option('-r, --runs <n>', 'timed runs per build', (v) => parseInt(v, 10), 2000)
  .action(async (input: string | undefined, o: { device: string; runs: number }) => {
    const model = input ? loadModel(input, o) : undefined;
    for (const line of await benchModel(model, { device: o.device, runs: o.runs, progress: true })) console.log(JSON.stringify(line));
  });

definePruneCommand(program);
defineTrainCommand(program);

program.parseAsync().catch((e: unknown) => {
  if (e instanceof SparrowError) {
    console.error(`${e.name}: ${e.message}`);
    process.exit(2);
  }
  throw e;
});
