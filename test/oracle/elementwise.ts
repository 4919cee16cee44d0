// Oracle for TFLM's int8 ADD (reference_integer_ops::AddElementwise), from the spec.
import { mbqm, wrap32 } from './fixed_point.js';
import type { AddParams } from '../../src/compiler/quant_math.js';

export interface AddCase extends AddParams {
  aZp: number;
  bZp: number;
  outZp: number;
  actMin: number;
  actMax: number;
}

export function addOracle(a: ArrayLike<number>, b: ArrayLike<number>, p: AddCase): Int8Array {
  const out = new Int8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    // input offsets are the negated zero points; values are shifted up by leftShift
    const shiftedA = wrap32((a[i] - p.aZp) * 2 ** p.leftShift);
    const shiftedB = wrap32((b[i] - p.bZp) * 2 ** p.leftShift);
    const rawSum = wrap32(mbqm(shiftedA, p.aMultiplier, p.aShift) + mbqm(shiftedB, p.bMultiplier, p.bShift));
    const raw = mbqm(rawSum, p.outMultiplier, p.outShift) + p.outZp;
    out[i] = Math.min(p.actMax, Math.max(p.actMin, raw));
  }
  return out;
}
