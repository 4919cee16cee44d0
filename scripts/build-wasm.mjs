// Builds every WebAssembly module into build/.
// Usage: node scripts/build-wasm.mjs [--if-stale] [name...]
// Each build is asconfig.json's options plus a target (mvp: no SIMD, simd: SIMD128) and an entry.
// --if-stale skips the work when every module is newer than every AssemblyScript source.
import asc from 'assemblyscript/asc';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const builds = {
  // the inference executor: what runs on the device
  'sparrow.mvp': { target: 'mvp', entry: 'src/runtime/index.ts' },
  'sparrow.simd': { target: 'simd', entry: 'src/runtime/index.ts' },
  // the training executor: inference plus the train-step ops (src/train/index.ts)
  'sparrow-train.mvp': { target: 'mvp', entry: 'src/train/index.ts' },
  'sparrow-train.simd': { target: 'simd', entry: 'src/train/index.ts' },
  // every kernel variant exported on its own, for tests and benchmarks
  'kernels.mvp': { target: 'mvp', entry: 'src/runtime/kernels/index.ts' },
  'kernels.simd': { target: 'simd', entry: 'src/runtime/kernels/index_simd.ts' },
  // every training kernel variant (backward, updates), for tests and benchmarks
  'train_kernels.mvp': { target: 'mvp', entry: 'src/train/kernels/index.ts' },
  'train_kernels.simd': { target: 'simd', entry: 'src/train/kernels/index_simd.ts' },
  // the mvp executor as a WASI preview1 command (`_start`)
  'sparrow.wasi': { target: 'mvp', entry: 'targets/wasi/main.ts', extra: ['--exportStart', '_start'] },
};
const sources = ['src/runtime', 'src/train', 'src/formats/schema.ts', 'targets/wasi', 'asconfig.json', 'scripts/build-wasm.mjs'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e))));
}

const args = process.argv.slice(2);
const ifStale = args.includes('--if-stale');
const wanted = args.filter((a) => !a.startsWith('--'));
const names = wanted.length ? wanted : Object.keys(builds);
const sourceTime = Math.max(...sources.map(newest));
mkdirSync('build', { recursive: true });
for (const name of names) {
  const b = builds[name];
  if (!b) throw new Error(`unknown build ${name}; known: ${Object.keys(builds).join(', ')}`);
  const outFile = `build/${name}.wasm`;
  if (ifStale && existsSync(outFile) && statSync(outFile).mtimeMs >= sourceTime) continue;
  const argv = [b.entry, '--config', 'asconfig.json', '--target', b.target, '--outFile', outFile, ...(b.extra ?? [])];
  const { error, stderr } = await asc.main(argv);
  if (error) {
    process.stderr.write(stderr.toString());
    console.error(`asc failed for ${name}: ${error.message}`);
    process.exit(1);
  }
  console.log(`${outFile} ${statSync(outFile).size} B`);
}
