import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../src/host/npy.js';
import { FormatError } from '../src/formats/errors.js';

describe('npy', () => {
  it('round-trips every supported dtype with a 64-byte aligned header', () => {
    const arrays = [Int8Array.of(-128, 0, 127), Uint8Array.of(0, 255), Int32Array.of(-(2 ** 31), 2 ** 31 - 1), Float32Array.of(1.5, -0, Infinity)];
    for (const a of arrays) {
      const shape = [1, a.length];
      const bytes = writeNpy(a, shape);
      const headerEnd = 10 + new DataView(bytes.buffer).getUint16(8, true);
      expect(headerEnd % 64).toBe(0);
      const back = readNpy(bytes);
      expect(back.shape).toEqual(shape);
      expect(back.data.constructor).toBe(a.constructor);
      expect([...back.data]).toEqual([...a]);
    }
  });
  it('rejects bad magic, unsupported dtypes and short data with FormatError', () => {
    const good = writeNpy(Float32Array.of(1, 2, 3), [3]);
    const badMagic = good.slice();
    badMagic[1] = 0;
    expect(() => readNpy(badMagic)).toThrow(FormatError);
    const f8 = good.slice();
    f8[new TextDecoder('latin1').decode(f8).indexOf("'<f4'") + 3] = 0x38; // '<f4' -> '<f8'
    expect(() => readNpy(f8)).toThrow(/not supported/);
    expect(() => readNpy(good.subarray(0, good.length - 1))).toThrow(/shorter/);
  });
});
