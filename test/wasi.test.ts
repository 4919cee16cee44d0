// The WASI command (build/sparrow.wasi.wasm) under node:wasi and @wasmer/sdk: its output
// bytes must equal the Node host's for the same container and input, from files and stdin.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { beforeAll, describe, expect, it } from 'vitest';
import { getDevice } from '../src/compiler/devices.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { Status } from '../src/formats/schema.js';
import { referenceData, referenceQModel } from '../targets/node/reference.js';

const wasmPath = 'build/sparrow.wasi.wasm';
let model: Model;
let input: Float32Array;
let expected: Uint8Array;

beforeAll(async () => {
  const data = referenceData();
  model = Model.compile(referenceQModel('reference-cnn', data).qmodel, { device: getDevice('stm32f746') });
  input = data.test.images.slice(0, 784);
  const session = await Session.create(model, { build: 'mvp' });
  const [out] = session.run(input);
  expected = new Uint8Array(out.buffer.slice(0));
});

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Runs the command under node:wasi with stdin/stdout as temp files; returns exit code and stdout. */
async function runNodeWasi(args: string[], stdin: Uint8Array, dir: string): Promise<{ code: number; stdout: Uint8Array }> {
  const { openSync, closeSync } = await import('node:fs');
  writeFileSync(join(dir, 'stdin.bin'), stdin);
  const inFd = openSync(join(dir, 'stdin.bin'), 'r');
  const outFd = openSync(join(dir, 'stdout.bin'), 'w');
  const errFd = openSync(join(dir, 'stderr.txt'), 'w');
  const wasi = new WASI({ version: 'preview1', args: ['sparrow', ...args], env: {}, preopens: { '/data': dir }, returnOnExit: true, stdin: inFd, stdout: outFd, stderr: errFd });
  const module = await WebAssembly.compile(readFileSync(wasmPath));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
  const code = wasi.start(instance);
  [inFd, outFd, errFd].forEach(closeSync);
  return { code, stdout: new Uint8Array(readFileSync(join(dir, 'stdout.bin'))) };
}

describe('WASI command', () => {
  it('has no SIMD and exports _start', () => {
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toContain('_start');
    expect(WebAssembly.Module.imports(module).every((i) => i.module === 'wasi_snapshot_preview1')).toBe(true);
  });

  it('node:wasi, container and input on stdin: output equals the Node host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparrow-wasi-'));
    const stdin = new Uint8Array([...model.bytes, ...bytesOf(input)]);
    const r = await runNodeWasi([], stdin, dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual(expected);
  });

  it('node:wasi, container and input from preopened files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparrow-wasi-'));
    writeFileSync(join(dir, 'model.spw'), model.bytes);
    writeFileSync(join(dir, 'input.bin'), bytesOf(input));
    const r = await runNodeWasi(['/data/model.spw', '/data/input.bin'], new Uint8Array(0), dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual(expected);
  });

  it('node:wasi reports a budget too small and a corrupt container as exit statuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparrow-wasi-'));
    const stdin = new Uint8Array([...model.bytes, ...bytesOf(input)]);
    const tight = await runNodeWasi(['--budget', String(model.arenaBytes - 1), '-', '-'], stdin, dir);
    expect(tight.code).toBe(Status.OVER_BUDGET);
    const fits = await runNodeWasi(['--budget', String(model.arenaBytes), '-', '-'], stdin, dir);
    expect(fits.code).toBe(0);
    const corrupt = stdin.slice();
    corrupt[100] ^= 0xff;
    const bad = await runNodeWasi([], corrupt, dir);
    expect(bad.code).toBe(Status.BAD_CHECKSUM);
    const truncated = await runNodeWasi([], model.bytes.slice(0, model.bytes.length - 7), dir);
    expect(truncated.code).toBe(Status.TRUNCATED);
  });

  it('@wasmer/sdk, stdin and files: output equals the Node host', async () => {
    const { Wasmer } = await import('@wasmer/sdk/node');
    const wasmer = new Wasmer({ cache: false });
    await wasmer.ready();
    const pkg = await wasmer.packages.create({
      modules: { app: readFileSync(wasmPath) },
      commands: { run: { module: 'app' } },
      files: { '/data/model.spw': model.bytes, '/data/input.bin': bytesOf(input).slice() },
    });
    const sandbox = await wasmer.sandboxes.create({ packages: [pkg] });
    const fromStdin = await sandbox.command(pkg, []).run({ stdin: new Uint8Array([...model.bytes, ...bytesOf(input)]) });
    expect(fromStdin.exitCode).toBe(0);
    expect(new Uint8Array(fromStdin.stdout.bytes)).toEqual(expected);
    const fromFiles = await sandbox.command(pkg, ['/data/model.spw', '/data/input.bin']).run({});
    expect(fromFiles.exitCode).toBe(0);
    expect(new Uint8Array(fromFiles.stdout.bytes)).toEqual(expected);
  });
});
