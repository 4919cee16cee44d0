// Host quantization math against hand-derived values and the properties TFLite guarantees.
import { describe, expect, it } from 'vitest';
import { Rng } from './helpers/rng.js';
import { activationRange, addParams, quantizeMultiplier, quantizeScalar, softmaxParams } from '../src/compiler/quant_math.js';
import { ValueError } from '../src/formats/errors.js';

describe('quantizeMultiplier', () => {
  it('gives hand-derived values', () => {
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.75)).toEqual({ multiplier: 3 * 2 ** 29, shift: 0 });
    expect(quantizeMultiplier(0.1)).toEqual({ multiplier: 1717986918, shift: -3 }); // round(0.8 * 2^31)
    expect(quantizeMultiplier(3)).toEqual({ multiplier: 3 * 2 ** 29, shift: 2 });
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
  });

  it('moves a mantissa that rounds up to 2^31 into the exponent', () => {
    expect(quantizeMultiplier(1 - 2 ** -33)).toEqual({ multiplier: 2 ** 30, shift: 1 });
  });

  it('flushes multipliers whose shift would fall below -31 to zero, keeps -31', () => {
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(quantizeMultiplier(2 ** -32 * (1 - 2 ** -40))).toEqual({ multiplier: 2 ** 30, shift: -31 }); // rounds up into -31
  });

  it('keeps the multiplier in [2^30, 2^31) and the value within 2^-31 relative (10,000 seeded reals)', () => {
    const rng = new Rng(31);
    const failures: string[] = [];
    for (let t = 0; t < 10000; t++) {
      const real = Math.exp((rng.next() * 2 - 1) * 20);
      const { multiplier, shift } = quantizeMultiplier(real);
      const back = (multiplier / 2 ** 31) * 2 ** shift;
      const ok = Number.isInteger(multiplier) && multiplier >= 2 ** 30 && multiplier < 2 ** 31 && Math.abs(back - real) / real <= 2 ** -31;
      if (!ok) failures.push(`real ${real} -> (${multiplier}, ${shift})`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('rejects negative and non-finite reals with a ValueError', () => {
    for (const bad of [-1, NaN, Infinity]) expect(() => quantizeMultiplier(bad)).toThrow(ValueError);
  });
});

describe('addParams', () => {
  it('gives hand-derived values for equal scales', () => {
    // each input: 0.5 -> (2^30, 0); output: 2 * 0.1 / (2^20 * 0.2) = 2^-20 -> (2^30, -19)
    expect(addParams(0.1, 0.1, 0.2)).toEqual({ leftShift: 20, aMultiplier: 2 ** 30, aShift: 0, bMultiplier: 2 ** 30, bShift: 0, outMultiplier: 2 ** 30, outShift: -19 });
  });

  it('scales the smaller input relative to twice the larger one (float32 scales)', () => {
    const p = addParams(0.25, 0.0625, 0.5);
    expect([p.aMultiplier, p.aShift, p.bMultiplier, p.bShift]).toEqual([2 ** 30, 0, 2 ** 30, -2]); // 0.5 and 0.125
    const q = addParams(0.1, 0.3, 1);
    const realB = (q.bMultiplier / 2 ** 31) * 2 ** q.bShift;
    expect(realB).toBe(0.5);
    expect(Math.abs((q.aMultiplier / 2 ** 31) * 2 ** q.aShift - Math.fround(0.1) / (2 * Math.fround(0.3)))).toBeLessThan(2 ** -32);
  });

  it('keeps every shift <= 0 across wide scale ranges and rejects an output scale TFLM would reject', () => {
    const rng = new Rng(41);
    for (let t = 0; t < 1000; t++) {
      const a = Math.exp((rng.next() * 2 - 1) * 10), b = a * Math.exp((rng.next() * 2 - 1) * 7);
      const p = addParams(a, b, Math.max(a, b) * Math.exp((rng.next() * 2 - 1) * 8));
      expect(Math.max(p.aShift, p.bShift, p.outShift), JSON.stringify({ a, b, p })).toBeLessThanOrEqual(0);
    }
    expect(() => addParams(1, 1, 2 ** -20)).toThrow(ValueError);
    expect(() => addParams(0, 1, 1)).toThrow(ValueError);
  });
});

describe('softmaxParams', () => {
  it('gives hand-derived values', () => {
    // beta * scale * 2^26 = 2^22 -> (2^30, 23); radius floor(31 * 2^26 / 2^23) = 248
    expect(softmaxParams(1, 1 / 16)).toEqual({ inputMultiplier: 2 ** 30, inputLeftShift: 23, diffMin: -248 });
    // 2^26 -> (2^30, 27); radius floor(31 * 2^26 / 2^27) = 15
    expect(softmaxParams(1, 1)).toEqual({ inputMultiplier: 2 ** 30, inputLeftShift: 27, diffMin: -15 });
  });

  it('caps the real multiplier at 2^31 - 1 (diffMin 0) and rejects useless scales', () => {
    expect(softmaxParams(1, 64)).toEqual({ inputMultiplier: 2 ** 31 - 1, inputLeftShift: 31, diffMin: 0 });
    expect(() => softmaxParams(1, 2 ** -40)).toThrow(ValueError);
    expect(() => softmaxParams(0, 0.1)).toThrow(ValueError);
  });
});

describe('activationRange', () => {
  it('gives TFLM CalculateActivationRangeQuantized values', () => {
    expect(activationRange('none', 0.1, 5)).toEqual([-128, 127]);
    expect(activationRange('relu', 0.1, -20)).toEqual([-20, 127]);
    expect(activationRange('relu6', 0.1, -20)).toEqual([-20, 40]); // 6 / 0.1f rounds to 60
    expect(activationRange('relu6', 6 / 255, -128)).toEqual([-128, 127]);
    expect(activationRange('relu6', 0.01, 0)).toEqual([0, 127]);
    expect(activationRange('relu', 0.1, 127)).toEqual([127, 127]);
  });

  it('rejects bad zero points and scales', () => {
    expect(() => activationRange('relu', 0.1, 200)).toThrow(ValueError);
    expect(() => activationRange('relu', -1, 0)).toThrow(ValueError);
  });
});

describe('quantizeScalar', () => {
  it('rounds ties away from zero in float32 and clamps', () => {
    expect([0.5, -0.5, 1.5, -1.5, 0.49999997, 1e9, -1e9].map((x) => quantizeScalar(x, 1, 0))).toEqual([1, -1, 2, -2, 0, 127, -128]);
    expect(quantizeScalar(0.3, 0.1, 10)).toBe(13);
    expect(() => quantizeScalar(NaN, 1, 0)).toThrow(ValueError);
  });
});
