// Test and benchmark harness: the host asks for a scratch region of linear memory, writes
// operands into it and calls kernels on pointers inside it.

/** Grows memory so that at least `bytes` are usable from the returned 16-byte aligned pointer. */
export function memory_reserve(bytes: i32): usize {
  const base = (__heap_base + 15) & ~(<usize>15);
  const end = base + <usize>bytes;
  const have = <usize>memory.size() << 16;
  if (end > have) {
    if (memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) return 0;
  }
  return base;
}
