// The browser / WebView bundle: the host API with both executor builds inlined, so a page
// needs one file. `bestBuild()` picks SIMD where the engine has it (Android WebView 91+,
// iOS 16.4+), else the mvp build.
// @ts-expect-error: resolved by @rollup/plugin-wasm to an async loader returning a WebAssembly.Module
import simdModule from '../../build/sparrow.simd.wasm';
// @ts-expect-error: as above
import mvpModule from '../../build/sparrow.mvp.wasm';
import { setDefaultWasm } from '../../src/host/runtime.js';

setDefaultWasm('simd', simdModule as () => Promise<WebAssembly.Module>);
setDefaultWasm('mvp', mvpModule as () => Promise<WebAssembly.Module>);

export * from '../../src/host/index.js';
