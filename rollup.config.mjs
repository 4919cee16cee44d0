// Bundles the host API for browsers and WebViews (dist/sparrow.web.mjs), executors inlined.
import commonjs from '@rollup/plugin-commonjs';
import json from '@rollup/plugin-json';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { wasm } from '@rollup/plugin-wasm';
import esbuild from 'rollup-plugin-esbuild';

export default {
  input: 'targets/web/index.ts',
  output: { file: 'dist/sparrow.web.mjs', format: 'es', sourcemap: true },
  external: (id) => id.startsWith('node:'),
  plugins: [
    nodeResolve({ browser: true, preferBuiltins: false }),
    commonjs(),
    json(), // the sparse cost model's measured data
    esbuild({ target: 'es2022' }),
    wasm({ targetEnv: 'auto-inline', maxFileSize: 1 << 20 }),
  ],
};
