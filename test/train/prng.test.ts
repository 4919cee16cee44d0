// The device PRNG is the host's mulberry32 (src/host/random.ts): the same seed gives the same
// 32-bit draws on both builds and on the host, so stochastic rounding can be replayed anywhere.
import { expect, it } from 'vitest';
import { loadTrainKernels } from '../helpers/train_kernels.js';
import { DevicePrng } from './sgd_mirror.js';

it('prng_next_u32 equals the host Random for the same seed on mvp and simd builds', () => {
  for (const build of ['mvp', 'simd'] as const) {
    const k = loadTrainKernels(build);
    for (const seed of [0, 1, 42, 0x9e3779b9, 0xffffffff]) {
      k.prng_seed(seed);
      const host = new DevicePrng(seed);
      for (let i = 0; i < 1000; i++) {
        const want = host.nextU32();
        const got = k.prng_next_u32() >>> 0;
        if (got !== want) expect.fail(`${build} seed ${seed}: draw ${i} = ${got}, host ${want}`);
      }
    }
  }
});

it('reseeding restarts the stream', () => {
  const k = loadTrainKernels('mvp');
  k.prng_seed(7);
  const first = [k.prng_next_u32(), k.prng_next_u32()];
  k.prng_seed(7);
  expect([k.prng_next_u32(), k.prng_next_u32()]).toEqual(first);
  k.prng_seed(8);
  expect(k.prng_next_u32()).not.toBe(first[0]);
});
