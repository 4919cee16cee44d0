// The web bundle (dist/sparrow.web.mjs, executors inlined) in headless Chromium: the same
// API as in Node, and bit-identical outputs on both builds. CI installs Debian's chromium.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { getDevice } from '../src/compiler/devices.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { referenceData, referenceQModel } from '../targets/node/reference.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { Model, Session, bestBuild } from './sparrow.web.mjs';
const bytes = new Uint8Array(await (await fetch('model.spw')).arrayBuffer());
const input = new Float32Array(await (await fetch('input.bin')).arrayBuffer());
const model = Model.fromBytes(bytes);
const result = { best: bestBuild() };
for (const build of ['mvp', 'simd']) {
  const session = await Session.create(model, { device: 'stm32f746', build });
  result[build] = Array.from(session.run(input)[0]);
  result[build + 'Memory'] = session.memory();
}
try { await Session.create(model, { device: { ...(await import('./sparrow.web.mjs')).getDevice('nrf52840'), sramBytes: 1000, reservedSramBytes: 0 } }); }
catch (e) { result.budgetError = e.name; }
window.result = result;
</script>`;

let server: Server;
let browser: Browser;
let base: string;
let model: Model;
let input: Float32Array;

beforeAll(async () => {
  execFileSync(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', '--silent'], { stdio: 'inherit' });
  const data = referenceData();
  model = Model.compile(referenceQModel('reference-cnn', data).qmodel, { device: getDevice('stm32f746') });
  input = data.test.images.slice(784 * 3, 784 * 4);
  const files: Record<string, [string, Uint8Array | string]> = {
    '/': ['text/html', PAGE],
    '/sparrow.web.mjs': ['text/javascript', readFileSync('dist/sparrow.web.mjs')],
    '/model.spw': ['application/octet-stream', model.bytes],
    '/input.bin': ['application/octet-stream', new Uint8Array(input.buffer.slice(0))],
  };
  server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM, // playwright gives it a fresh temporary profile
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('browser bundle', () => {
  it('runs the reference CNN in Chromium with outputs bit-identical to Node on both builds', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base);
    await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`the page did not finish: ${errors.join('; ')}`);
    });
    const result = (await page.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result)) as Record<string, never>;
    const nodeSession = await Session.create(model, { build: 'simd' });
    const expected = Array.from(nodeSession.run(input)[0]);
    expect(result.best).toBe('simd');
    expect(result.simd).toEqual(expected);
    expect(result.mvp).toEqual(expected);
    expect((result.simdMemory as { highWaterBytes: number }).highWaterBytes).toBe(model.arenaBytes);
    expect(result.budgetError).toBe('BudgetError');
  });
});
