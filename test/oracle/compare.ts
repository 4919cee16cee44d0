// Comparison helper for kernel tests: the first mismatch, with the case that produced it.

/** Returns '' when equal, else a message naming the first differing index and the case. */
export function firstMismatch(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, testCase: unknown): string {
  if (actual.length !== expected.length) return `${what}: length ${actual.length} != ${expected.length} for ${JSON.stringify(testCase)}`;
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      return `${what}: element ${i} is ${actual[i]}, expected ${expected[i]}, for ${JSON.stringify(testCase)}`;
    }
  }
  return '';
}

/** log-uniform sample in [lo, hi], for scales spanning orders of magnitude. */
export function logUniform(next: () => number, lo: number, hi: number): number {
  return Math.exp(Math.log(lo) + next() * (Math.log(hi) - Math.log(lo)));
}
