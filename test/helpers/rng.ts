// Seeded randomness for tests and benchmarks: the host's PRNG (src/host/random.ts) plus
// the draws test cases need. Same seed, same cases, every run.
import { Random } from '../../src/host/random.js';

export class Rng extends Random {
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }
  int8Array(n: number, lo = -128, hi = 127): Int8Array {
    const a = new Int8Array(n);
    for (let i = 0; i < n; i++) a[i] = this.int(lo, hi);
    return a;
  }
}
