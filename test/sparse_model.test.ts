// Group-sparse layers end to end: the compiler rewrites pruned 1x1 / fully connected layers
// to their sparse ops; outputs stay bit-identical to the dense model on both builds, the
// arena does not grow, flash shrinks, and a corrupt sparse blob is refused by both readers.
import { describe, expect, it } from 'vitest';
import { containerCrc, readContainer, ContainerError } from '../src/formats/container.js';
import type { QModel } from '../src/formats/qmodel.js';
import { Op, Section, Status } from '../src/formats/schema.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { mobilenetV1 } from '../src/compiler/models.js';
import { raiseContainer } from '../src/compiler/raise.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { Random } from '../src/host/random.js';
import { instantiate, loadInto } from './helpers/device.js';
import { referenceQModel } from '../targets/node/reference.js';

/** Zeroes the weakest groups of `g` output channels x 1 input channel of every 1x1 / FC filter. */
function pruneQModel(q: QModel, sparsity: number, g: number): QModel {
  const copy: QModel = JSON.parse(JSON.stringify(q));
  const filters = new Set(copy.ops.filter((o) => o.op === 'fully_connected' || o.op === 'conv2d').map((o) => o.inputs[1]));
  for (const t of copy.tensors) {
    if (!filters.has(t.name) || !t.data) continue;
    const outC = t.shape[0];
    const inC = t.data.length / outC;
    if (t.shape.length === 4 && (t.shape[1] !== 1 || t.shape[2] !== 1)) continue; // only 1x1 convs
    const gg = outC % g === 0 ? g : 1;
    const groups: { norm: number; b: number; ci: number }[] = [];
    for (let b = 0; b < outC; b += gg) {
      for (let ci = 0; ci < inC; ci++) {
        let norm = 0;
        for (let j = 0; j < gg; j++) norm += t.data[(b + j) * inC + ci] ** 2;
        groups.push({ norm, b, ci });
      }
    }
    groups.sort((a, c) => a.norm - c.norm);
    for (const { b, ci } of groups.slice(0, Math.floor(groups.length * sparsity))) for (let j = 0; j < gg; j++) t.data[(b + j) * inC + ci] = 0;
  }
  return copy;
}

async function outputsOf(model: Model, inputs: Float32Array[], build: 'mvp' | 'simd'): Promise<number[][]> {
  const s = await Session.create(model, { build });
  return inputs.map((x) => Array.from(s.run(x)[0]));
}

describe('group-sparse models', () => {
  const rng = new Random(5);
  const cnn = pruneQModel(referenceQModel('reference-cnn').qmodel, 0.75, 4);
  const cnnInputs = Array.from({ length: 8 }, () => Float32Array.from({ length: 784 }, () => rng.next()));

  it('the compiler rewrites pruned 1x1 and FC layers, and outputs stay bit-identical on both builds', async () => {
    const dense = Model.compile(cnn, { sparse: 'never' });
    const sparse = Model.compile(cnn, { sparse: 'always' });
    const codes = sparse.container.ops.map((o) => o.op);
    expect(codes.filter((c) => c === Op.SPARSE_CONV1X1)).toHaveLength(2);
    expect(codes.filter((c) => c === Op.SPARSE_FULLY_CONNECTED)).toHaveLength(1);
    const want = await outputsOf(dense, cnnInputs, 'mvp');
    expect(await outputsOf(sparse, cnnInputs, 'mvp')).toEqual(want);
    expect(await outputsOf(sparse, cnnInputs, 'simd')).toEqual(want);
    expect(sparse.arenaBytes).toBe(dense.arenaBytes);
    expect(sparse.report!.sparseSavedBytes).toBeGreaterThan(0);
    for (const d of sparse.report!.sparse) {
      expect(d.sparse, d.name).toBe(true);
      expect(d.sparsity, d.name).toBeGreaterThan(0.5);
    }
    // forced sparse on a tiny layer (pw1: 8 -> 16) can cost a few header bytes; the model as a whole saves
  });

  it('measured high-water mark equals the plan with sparse layers', async () => {
    const s = await Session.create(Model.compile(cnn, { sparse: 'always' }), { build: 'simd' });
    s.run(cnnInputs[0]);
    expect(s.memory().highWaterBytes).toBe(s.memory().plannedBytes);
  });

  it('a MobileNetV1 (width 0.25, 96x96) pruned to 90% gives the dense outputs through the sparse kernels', async () => {
    const graph = mobilenetV1(3, 0.25, 96, 100);
    const calibration = Float32Array.from({ length: 2 * 96 * 96 * 3 }, () => rng.next());
    const q = pruneQModel(quantizeGraph(graph, calibration), 0.9, 4);
    const input = [Float32Array.from({ length: 96 * 96 * 3 }, () => rng.next())];
    const dense = await outputsOf(Model.compile(q, { sparse: 'never' }), input, 'simd');
    const sparseModel = Model.compile(q, { sparse: 'always' });
    expect(sparseModel.container.ops.filter((o) => o.op === Op.SPARSE_CONV1X1)).toHaveLength(13);
    expect(await outputsOf(sparseModel, input, 'simd')).toEqual(dense);
    expect(await outputsOf(sparseModel, input, 'mvp')).toEqual(dense);
  });

  it('unpack gives the dense filters back', () => {
    const sparse = Model.compile(cnn, { sparse: 'always' });
    expect(raiseContainer(sparse.container)).toEqual(raiseContainer(Model.compile(cnn, { sparse: 'never' }).container));
  });

  it('a corrupt sparse blob is refused by the host and the device at the same byte', () => {
    const model = Model.compile(cnn, { sparse: 'always' });
    const op = model.container.ops.find((o) => o.op === Op.SPARSE_CONV1X1)!;
    const blob = model.container.tensors[op.inputs[1]];
    const bytes = model.bytes.slice();
    const view = new DataView(bytes.buffer);
    const at = findDataOffset(bytes) + blob.offset;
    view.setUint32(at + 8, 999, true); // inC in the blob header no longer matches the input
    view.setUint32(16, containerCrc(bytes), true);
    let hostError: unknown;
    try {
      readContainer(bytes);
    } catch (e) {
      hostError = e;
    }
    expect(hostError).toBeInstanceOf(ContainerError);
    expect((hostError as ContainerError).status).toBe(Status.BAD_OP);
    for (const build of ['mvp', 'simd'] as const) {
      const ex = instantiate(build);
      const r = loadInto(ex, bytes);
      expect(r.status).toBe(Status.BAD_OP);
      expect(r.detail).toBe((hostError as ContainerError).offset);
    }
  });
});

/** File offset of the DATA section, from the section table. */
function findDataOffset(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const sections = v.getUint32(12, true);
  for (let i = 0; i < sections; i++) if (v.getUint32(32 + 12 * i, true) === Section.DATA) return v.getUint32(32 + 12 * i + 4, true);
  throw new Error('no DATA section');
}
