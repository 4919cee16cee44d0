// Gradual magnitude pruning schedule (Zhu & Gupta, "To prune, or not to prune", 2017):
//
//   s(t) = s_f + (s_i - s_f) * (1 - (t - t0) / (n * dt))^3   for t0 <= t <= t0 + n * dt
//
// Sparsity rises fast while the network has many redundant weights and slowly near the
// target. Masks are recomputed only every dt optimizer steps (and at the end of the ramp),
// and the sparsity holds between updates. Here t0 = 0: the initial sparsity is applied before
// the first step.

import { ValueError } from '../../formats/errors.js';

export interface GradualSchedule {
  initialSparsity: number;
  finalSparsity: number;
  /** Optimizer steps over which sparsity ramps (n * dt); >= 1. */
  rampSteps: number;
  /** Masks are recomputed every `updateEvery` steps (dt); >= 1. */
  updateEvery: number;
}

export function checkSchedule(s: GradualSchedule): void {
  for (const [name, v] of [['initial sparsity', s.initialSparsity], ['final sparsity', s.finalSparsity]] as const) {
    if (!(v >= 0 && v < 1)) throw new ValueError(`${name} must be in [0, 1), got ${v}`);
  }
  if (s.initialSparsity > s.finalSparsity) throw new ValueError(`initial sparsity ${s.initialSparsity} exceeds the final ${s.finalSparsity}`);
  for (const [name, v] of [['ramp steps', s.rampSteps], ['mask update interval', s.updateEvery]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`${name} must be a positive integer, got ${v}`);
  }
}

/** Fraction of the way from initial to final sparsity after `step` steps, in [0, 1]. */
export function rampProgress(step: number, s: GradualSchedule): number {
  const t = Math.min(step, s.rampSteps) / s.rampSteps;
  return 1 - (1 - t) ** 3;
}

/** Scheduled sparsity after `step` optimizer steps (step 0: before training). */
export function sparsityAt(step: number, s: GradualSchedule): number {
  return s.initialSparsity + (s.finalSparsity - s.initialSparsity) * rampProgress(step, s);
}

/** Whether masks are recomputed after `step` steps: every `updateEvery` steps and at the ramp's end. */
export function isMaskUpdate(step: number, s: GradualSchedule): boolean {
  return step <= s.rampSteps && (step % s.updateEvery === 0 || step === s.rampSteps);
}
