// The `sparrow` command end to end: pack -> unpack round trip, plan (table and JSON), fp32
// graph files as models, run on .npy files (outputs equal the API's), typed errors with a
// non-zero exit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelToJson, parseModelJson } from '../src/formats/model_json.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { readNpy, writeNpy } from '../src/host/npy.js';
import type { QModel } from '../src/formats/qmodel.js';
import { referenceData, referenceQModel } from '../targets/node/reference.js';
import { mobilenetV1 } from '../src/compiler/models.js';
import { saveGraph } from '../src/compiler/serialize.js';

const dir = mkdtempSync(join(tmpdir(), 'sparrow-cli-'));
let qmodel: QModel;
let input: Float32Array;

function sparrow(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/sparrow.mjs', ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const data = referenceData();
  qmodel = referenceQModel('reference-cnn', data).qmodel;
  input = data.test.images.slice(0, 784);
  writeFileSync(join(dir, 'cnn.json'), modelToJson(qmodel));
  writeFileSync(join(dir, 'input.npy'), writeNpy(input, [1, 28, 28, 1]));
});

describe('sparrow CLI', () => {
  it('pack then unpack gives back the same JSON model', () => {
    const packed = sparrow('pack', join(dir, 'cnn.json'), '-o', join(dir, 'cnn.spw'), '--device', 'nrf52840');
    expect(packed.status, packed.stderr).toBe(0);
    expect(packed.stdout).toMatch(/arena 4704 B planned for nrf52840/);
    const unpacked = sparrow('unpack', join(dir, 'cnn.spw'));
    expect(unpacked.status, unpacked.stderr).toBe(0);
    expect(parseModelJson(unpacked.stdout)).toEqual(parseModelJson(modelToJson(qmodel)));
  });

  it('plan prints the buffer table and timeline, and --json the same plan as the compiler', () => {
    const table = sparrow('plan', join(dir, 'cnn.json'), '--device', 'rp2040');
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/Arena buffers/);
    expect(table.stdout).toMatch(/Memory timeline/);
    expect(table.stdout).toMatch(/◀ peak/);
    const json = JSON.parse(sparrow('plan', join(dir, 'cnn.spw'), '--device', 'rp2040', '--json').stdout);
    const compiled = Model.compile(qmodel);
    expect(json.sram.needed).toBe(compiled.arenaBytes);
    expect(json.buffers.length).toBe(compiled.report!.buffers.length);
    expect(json.fits).toBe(true);
    expect(json.latency.totalUs).toBeGreaterThan(0);
  });

  it('run writes the same outputs as the API, on both builds', async () => {
    const session = await Session.create(Model.compile(qmodel), { build: 'mvp' });
    const [expected] = session.run(input);
    for (const build of ['mvp', 'simd']) {
      const out = join(dir, `out-${build}.npy`);
      const r = sparrow('run', join(dir, 'cnn.spw'), '-i', join(dir, 'input.npy'), '-o', out, '--build', build);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/planned 4704 B, measured 4704 B/);
      const got = readNpy(readFileSync(out));
      expect(got.shape).toEqual([1, 10]);
      expect(Array.from(got.data)).toEqual(Array.from(expected));
    }
  });

  it('pack and plan take a fp32 graph file (what prune -o writes), quantized on the digits like the API', () => {
    const packed = sparrow('pack', 'models/reference-cnn.json', '-o', join(dir, 'graph.spw'));
    expect(packed.status, packed.stderr).toBe(0);
    const unpacked = sparrow('unpack', join(dir, 'graph.spw'));
    expect(parseModelJson(unpacked.stdout)).toEqual(parseModelJson(modelToJson(qmodel)));
    const plan = sparrow('plan', 'models/reference-cnn.json', '--target', 'simd');
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/Dense or group-sparse, per 1x1 \/ fully connected layer/);
    const rgb = saveGraph(mobilenetV1(1, 0.25, 32, 10));
    writeFileSync(join(dir, 'rgb-graph.json'), JSON.stringify(rgb));
    const refused = sparrow('plan', join(dir, 'rgb-graph.json'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/ShapeError: graph .*input \[32,32,3\] is not a 28x28 digit/);
  });

  it('refuses bad input with a typed error and exit code 2', () => {
    const corrupt = readFileSync(join(dir, 'cnn.spw'));
    corrupt[200] ^= 0x40;
    writeFileSync(join(dir, 'corrupt.spw'), corrupt);
    const bad = sparrow('run', join(dir, 'corrupt.spw'), '-i', join(dir, 'input.npy'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Error: BAD_CHECKSUM: CRC-32 .* \(at byte 16\)/);
    writeFileSync(join(dir, 'wrong.npy'), writeNpy(new Float32Array(10), [10]));
    const wrong = sparrow('run', join(dir, 'cnn.spw'), '-i', join(dir, 'wrong.npy'));
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/ShapeError: input input has 784 elements/);
    const tooBig = { ...qmodel, tensors: qmodel.tensors.map((t) => (t.name === 'input' ? { ...t, shape: [1, 280, 280, 1] } : t)) };
    writeFileSync(join(dir, 'big.json'), JSON.stringify(tooBig));
    const big = sparrow('plan', join(dir, 'big.json'));
    expect(big.status).toBe(2);
  });
});
