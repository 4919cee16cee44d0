// Trained rows only (docs/training.md section 4, docs/format.md MERGE_ROWS and UPDATE_FLAGS
// bit 3): a conv2d or fully connected layer trained at ratio < 1 keeps only its selected rows
// TRAINABLE; MERGE_ROWS rebuilds the whole filter for the ops that read it. Checked here: the
// update kernels with compact rows against the whole-filter mirror (every variant, bit for bit),
// the container the lowering builds, N device steps against the whole-filter form on both
// builds (planned == measured), and MERGE_ROWS / bit 3 records broken one rule at a time.
import { describe, expect, it } from 'vitest';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { OP_RULES, Param, UPDATE_COMPACT_ROWS } from '../../src/formats/container_op_rules.js';
import { writeContainer } from '../../src/formats/container.js';
import type { ContainerModel } from '../../src/formats/container_types.js';
import { Category, NO_TENSOR, Op, Status } from '../../src/formats/schema.js';
import { Trainer } from '../../src/host/trainer.js';
import { Layout, withCrc, expectRefusedAlike } from '../fixtures/broken.js';
import { BUILDS } from '../helpers/device.js';
import { Rng } from '../helpers/rng.js';
import { firstBitMismatch, loadTrainKernels, trainVariants, Workspace, type KernelBuild } from '../helpers/train_kernels.js';
import { referenceCnnTask } from './reference_task.js';
import { trainExecutor } from './step_probe.js';
import { KERNEL_OF, perChannelWeights, runKernel, runMirror, updateCase, type UpdateCase } from './update_cases.js';

const { qmodel, train, sample } = referenceCnnTask();
// conv1 (3x3 conv2d), pw1 and pw2 (1x1) at ratios below 1, dw2 (depthwise, keeps its whole filter), every bias below the classifier
const PARTIAL: TrainRecipe = {
  biasLastK: 5, seed: 7,
  weights: [{ layer: 'conv1', ratio: 0.5 }, { layer: 'pw1', ratio: 0.25 }, { layer: 'dw2', ratio: 0.5 }, { layer: 'pw2', ratio: 0.5 }],
};

describe('update kernels with UPDATE_COMPACT_ROWS', () => {
  const workspaces = new Map<KernelBuild, Workspace>();
  const workspace = (build: KernelBuild) => {
    if (!workspaces.has(build)) workspaces.set(build, new Workspace(loadTrainKernels(build), 1 << 20));
    return workspaces.get(build)!;
  };
  /** Rows `channels` of a filter of `perRow`-weight rows, in list order. */
  const rowsOf = (filter: Int8Array, channels: number[], perRow: number) => {
    const rows = new Int8Array(channels.length * perRow);
    channels.forEach((c, i) => rows.set(filter.subarray(c * perRow, (c + 1) * perRow), i * perRow));
    return rows;
  };

  for (const kind of ['conv2d', 'fully_connected'] as const) {
    it(`${kind}: row i updated as channel selected[i] of the whole filter, biases, state and PRNG draws alike, every variant`, () => {
      for (const v of trainVariants(KERNEL_OF[kind])) {
        const rng = new Rng(0xc0de + v.name.length);
        for (let index = 0; index < 12; index++) {
          const c = updateCase(kind, rng, index);
          const perRow = perChannelWeights(kind, c.o.g);
          const whole = runMirror(c, 11);
          const compact: UpdateCase = { ...c, filter: rowsOf(c.filter, c.channels, perRow), settings: { ...c.settings, flags: c.settings.flags | UPDATE_COMPACT_ROWS } };
          const got = runKernel(compact, loadTrainKernels(v.build), workspace(v.build), v.name, 11);
          const label = `${v.name} on ${v.build}, case ${index}: ${c.label}`;
          expect(got.status, label).toBe(whole.status);
          const w = firstBitMismatch(got.filter, rowsOf(whole.filter, c.channels, perRow));
          expect(w, `${label}: row weight [${w}]`).toBe(-1);
          if (whole.bias) expect(firstBitMismatch(got.bias!, whole.bias), `${label}: bias`).toBe(-1);
          for (const part of ['weights', 'biases'] as const) {
            if (whole.state[part]) expect(firstBitMismatch(got.state[part]!, whole.state[part]!), `${label}: state ${part}`).toBe(-1);
          }
          expect(got.nextDraw, `${label}: PRNG draws`).toBe(whole.nextDraw);
        }
      }
    });
  }
});

describe('merge_rows_s8 (MERGE_ROWS)', () => {
  it('copies the filter, then row i over channel selected[i]; a channel out of range: BAD_ARGUMENT, output untouched', () => {
    for (const build of BUILDS) {
      const k = loadTrainKernels(build), ws = new Workspace(k, 1 << 16);
      const rng = new Rng(0x3e6);
      for (let n = 0; n < 24; n++) {
        const outC = rng.int(1, 40), rowBytes = rng.int(1, 50);
        const channels = Array.from(rng.permutation(outC)).slice(0, rng.int(0, outC));
        const filter = rng.int8Array(outC * rowBytes), rows = rng.int8Array(channels.length * rowBytes);
        const want = filter.slice();
        channels.forEach((c, i) => want.set(rows.subarray(i * rowBytes, (i + 1) * rowBytes), c * rowBytes));
        const label = `${build} case ${n}: ${outC} rows of ${rowBytes} B, channels ${JSON.stringify(channels)}`;
        for (const bad of [false, true]) {
          const list = bad ? [...channels, rng.next() < 0.5 ? outC : -1] : channels;
          ws.reset();
          const f = ws.i8(filter), r = ws.i8(rows), c = ws.i32(list), out = ws.i8(new Int8Array(outC * rowBytes));
          expect(k.merge_rows_s8(f, outC, rowBytes, r, c, list.length, out), `${label}, bad ${bad}`).toBe(bad ? Status.BAD_ARGUMENT : Status.OK);
          const at = firstBitMismatch(ws.readI8(out, outC * rowBytes), bad ? new Int8Array(outC * rowBytes) : want);
          expect(at, `${label}, bad ${bad}: byte ${at}`).toBe(-1);
        }
      }
    }
  });
});

describe('the lowered step keeps only the trained rows', () => {
  it('pw1 at 1/4: TRAINABLE is its 4 selected rows of 8 inputs, initialised from a CONST tensor of those rows', () => {
    const { container, report } = lowerTrainStep(qmodel, { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.25 }] });
    const pw1 = report.trainables.find((t) => t.source === 'pw1/weight')!;
    const rows = report.recipe.layers.find((l) => l.layer === 'pw1')!.channels;
    expect([pw1.bytes, pw1.rows]).toEqual([4 * 8, rows]);
    const t = container.tensors[pw1.tensor];
    expect([t.shape, Category[t.category], t.bytes]).toEqual([[4, 1, 1, 8], 'TRAINABLE', 32]);
    const init = container.tensors[pw1.init];
    const filter = qmodel.tensors.find((x) => x.name === 'pw1/weight')!.data!;
    const want = rows.flatMap((c) => filter.slice(c * 8, (c + 1) * 8));
    expect(Array.from(new Int8Array(container.data.buffer, container.data.byteOffset + init.offset, init.bytes))).toEqual(want);
    expect(report.memory.categoryPeaks.TRAINABLE).toBe(report.trainables.reduce((n, x) => n + x.bytes, 0));
  });

  it('MERGE_ROWS writes the whole filter right before each op that reads it: the forward op and the input gradient', () => {
    const { container, report } = lowerTrainStep(qmodel, PARTIAL);
    const compact = report.trainables.filter((t) => t.rows);
    expect(compact.map((t) => t.source).sort()).toEqual(['conv1/weight', 'pw1/weight', 'pw2/weight']); // dw2 keeps its whole filter
    const merges = container.ops.flatMap((op, k) => (op.op === Op.MERGE_ROWS ? [k] : []));
    // conv1: forward only (nothing below it); pw1, pw2: forward and input gradient
    expect(merges.length).toBe(5);
    for (const k of merges) {
      const op = container.ops[k], next = container.ops[k + 1];
      expect(next.inputs[1], `op ${k + 1} (${Op[next.op]}) reads the merged filter`).toBe(op.output);
      expect(container.tensors[op.output].shape).toEqual(container.tensors[op.inputs[0]].shape);
      expect(compact.map((t) => t.tensor)).toContain(op.inputs[1]);
    }
  });
});

describe('compact rows train exactly as the whole filter', () => {
  const recipes: [string, TrainRecipe][] = [
    ['stochastic rounding', PARTIAL],
    ['momentum 0.9', { ...PARTIAL, momentum: 0.9 }],
    ['carry rounding', { ...PARTIAL, rounding: 'carry', learningRate: { weight: 0.002, bias: 0.002 } }],
  ];
  for (const [what, recipe] of recipes) {
    it(`${what}: 6 steps on mvp and simd give the same losses and exported tensors; planned == measured; less SRAM`, async () => {
      for (const build of BUILDS) {
        const [compact, whole] = await Promise.all([false, true].map(async (wholeFilters) => {
          const trainer = await Trainer.create(qmodel, recipe, { build, wholeFilters });
          const losses = [0, 1, 2, 3, 4, 5].map((i) => trainer.step(sample(i), train.labels[i]));
          const m = trainer.memory();
          expect(m.highWaterBytes, `${build} ${what} wholeFilters ${wholeFilters}: ${JSON.stringify(m)}`).toBe(m.plannedHighWaterBytes);
          return { losses, tensors: trainer.trainedTensors(), trainable: m.byCategory.trainable, planned: m.plannedBytes };
        }));
        expect(compact.losses, `${build} ${what}: losses`).toEqual(whole.losses);
        expect([...compact.tensors.keys()]).toEqual([...whole.tensors.keys()]);
        for (const [name, t] of whole.tensors) {
          const at = firstBitMismatch(compact.tensors.get(name)!, t);
          expect(at, `${build} ${what}: ${name}[${at}]`).toBe(-1);
        }
        const moved = [...compact.tensors].filter(([name, t]) => t.some((v, i) => v !== qmodel.tensors.find((x) => x.name === name)!.data![i]));
        expect(moved.length, `${build} ${what}: tensors that moved`).toBe(compact.tensors.size);
        // the untrained rows stay out of SRAM: conv1 4 of 8 rows of 3x3x1, pw1 12 of 16 rows of 8, pw2 16 of 32 rows of 16
        expect(whole.trainable - compact.trainable, `${build} ${what}: TRAINABLE bytes saved`).toBe(4 * 9 + 12 * 8 + 16 * 16);
      }
    });
  }
});

describe('MERGE_ROWS and compact-rows records, broken one rule at a time: host and device agree', () => {
  const { container, report } = lowerTrainStep(qmodel, PARTIAL);
  const firstOf = (code: Op) => container.ops.findIndex((o) => o.op === code);
  const merge = firstOf(Op.MERGE_ROWS);
  const flagsAt = (l: Layout, k: number) => l.op(k) + 16 + 4 * OP_RULES[container.ops[k].op as Op].params.indexOf(Param.UPDATE_FLAGS);
  const compactUpdate = container.ops.findIndex((o) => o.op === Op.FULLY_CONNECTED_UPDATE && report.trainables.find((t) => t.tensor === o.inputs[2])?.rows);
  const allChannels = container.ops.find((o) => o.op === Op.BIAS_UPDATE && container.tensors[o.inputs[2]].shape[0] === container.tensors[container.ops[merge].inputs[0]].shape[0])!.inputs[2];
  const cases: { rule: string; op: number; mutate: (l: Layout, c: ContainerModel) => void; at: (l: Layout) => number }[] = [
    { rule: 'rows hold one row per listed channel', op: merge, mutate: (l) => l.u16(l.op(merge) + 8, allChannels), at: (l) => l.op(merge) + 6 },
    {
      rule: 'a listed channel below the filter\'s channel count', op: merge,
      mutate: (l, c) => l.i32(l.constAt(c.ops[merge].inputs[2], 4), c.tensors[c.ops[merge].inputs[0]].shape[0]),
      at: (l) => l.constAt(container.ops[merge].inputs[2], 4),
    },
    { rule: 'the output keeps the filter\'s channelScales', op: merge, mutate: (l, c) => l.u16(l.tensor(c.ops[merge].output) + 36, NO_TENSOR), at: (l) => l.op(merge) + 12 },
    { rule: 'BIAS_UPDATE takes no bit 3', op: firstOf(Op.BIAS_UPDATE), mutate: (l) => l.i32(flagsAt(l, firstOf(Op.BIAS_UPDATE)), UPDATE_COMPACT_ROWS), at: (l) => flagsAt(l, firstOf(Op.BIAS_UPDATE)) },
    {
      rule: 'DEPTHWISE_CONV2D_UPDATE takes no bit 3', op: firstOf(Op.DEPTHWISE_CONV2D_UPDATE),
      mutate: (l) => l.i32(flagsAt(l, firstOf(Op.DEPTHWISE_CONV2D_UPDATE)), UPDATE_COMPACT_ROWS), at: (l) => flagsAt(l, firstOf(Op.DEPTHWISE_CONV2D_UPDATE)),
    },
    // without bit 3 the rows read as the whole filter: dy no longer has their channel count
    { rule: 'compact rows need bit 3', op: compactUpdate, mutate: (l) => l.i32(flagsAt(l, compactUpdate), 0), at: (l) => l.op(compactUpdate) + 6 },
  ];
  const base = writeContainer(container);
  for (const c of cases) {
    it(`${c.rule} -> BAD_OP at the same byte`, () => {
      expect(c.op, c.rule).toBeGreaterThanOrEqual(0);
      const l = new Layout(base.slice());
      c.mutate(l, container);
      const bytes = withCrc(l.bytes);
      const at = c.at(new Layout(base));
      expectRefusedAlike(bytes, c.rule, Status.BAD_OP, at, BUILDS.map((build) => [build, trainExecutor(build)] as const), c.op);
    });
  }
});
