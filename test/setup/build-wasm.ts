// Rebuilds the wasm modules before the tests when an AssemblyScript source is newer than
// a module, so the tests always run the code in the tree.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--if-stale'], { stdio: 'inherit' });
}
