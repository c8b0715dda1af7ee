// What every end-to-end test file shares: a loopback server for the
// repository, the mini slice and the fixtures; Debian's headless Chromium with
// and without WebGPU; and helpers that read the page's status contract.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { dataRoot, fixturesDir } from '../scripts/data-root.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The data root and the fixtures, by the one rule (scripts/data-root.sh).
export const MINI = path.join(dataRoot(), 'cifar-10-batches-bin-mini');
export const OUT = path.join(ROOT, 'target', 'e2e');
export const HAVE_MINI = fs.existsSync(path.join(MINI, 'test_batch.bin'));
const FLAGS = ['--no-sandbox', '--headless=new', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-gpu-sandbox'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

let server;
export let base, browser, noGpuBrowser;

// The exercise's PyTorch checkpoints, beside the data root.
export const FIXTURES = fixturesDir();
export const HAVE_FIXTURES = fs.existsSync(path.join(FIXTURES, 'vae16_init.safetensors'));

/** A skip reason when `have` is false: loud, and only outside CI and without
 * VAELAB_DATA; there the test runs and fails on what is missing, naming the path. */
export function needs(have, what) {
  if (have || process.env.CI || process.env.VAELAB_DATA) return false;
  return `SKIPPED: ${what} (looked in ${path.dirname(MINI)})`;
}

// Routes: /data-mini/ → the mini slice; /data-six/ → all six official names
// (five 200-image slices of the mini training file, the mini test file);
// /data-bad/ → a truncated training file; /www/models/ → what a test trained
// with scripts/pretrain.sh (target/e2e/models); /fixtures/ → the PyTorch
// checkpoints; else the repository. `requests` logs every path asked for;
// `overrides` answers a path with other bytes, or with an HTTP status (a
// test's new version of a file, a download that fails).
export const requests = [];
export const overrides = new Map();
function resolve(urlPath) {
  if (urlPath.startsWith('/data-mini/')) return path.join(MINI, path.basename(urlPath));
  if (urlPath.startsWith('/data-six/')) return path.join(OUT, 'six', path.basename(urlPath));
  if (urlPath.startsWith('/fixtures/')) return path.join(FIXTURES, path.basename(urlPath));
  if (urlPath.startsWith('/data-bad/')) return path.join(OUT, 'bad', path.basename(urlPath));
  // Models a test trains with scripts/pretrain.sh (the repository's own www/models/ is never committed).
  if (urlPath.startsWith('/www/models/')) return path.join(OUT, 'models', path.basename(urlPath));
  // A folder is its index.html, as static servers answer.
  return path.join(ROOT, path.normalize(urlPath), urlPath.endsWith('/') ? 'index.html' : '');
}

before(async () => {
  if (!HAVE_MINI && !needs(false, '')) console.error(`\n*** no CIFAR-10 mini slice at ${MINI}: the tests that need it will fail ***\n`);
  fs.mkdirSync(path.join(OUT, 'bad'), { recursive: true });
  fs.mkdirSync(path.join(OUT, 'six'), { recursive: true });
  if (HAVE_MINI) {
    const train = fs.readFileSync(path.join(MINI, 'data_batch_1.bin'));
    for (let k = 0; k < 5; k++) fs.writeFileSync(path.join(OUT, 'six', `data_batch_${k + 1}.bin`), train.subarray(3073 * 200 * k, 3073 * 200 * (k + 1)));
    fs.copyFileSync(path.join(MINI, 'test_batch.bin'), path.join(OUT, 'six', 'test_batch.bin'));
    fs.writeFileSync(path.join(OUT, 'bad', 'data_batch_1.bin'), train.subarray(0, 3073 * 10 + 100));
    fs.copyFileSync(path.join(MINI, 'test_batch.bin'), path.join(OUT, 'bad', 'test_batch.bin'));
  }
  server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(urlPath);
    if (overrides.has(urlPath)) {
      const o = overrides.get(urlPath);
      if (typeof o === 'number') res.writeHead(o).end();
      else res.writeHead(200, { 'content-type': TYPES[path.extname(urlPath)] || 'application/octet-stream' }).end(o);
      return;
    }
    const p = resolve(urlPath);
    fs.readFile(p, (err, body) => {
      if (err) { res.writeHead(404); res.end('not found'); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] || 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, '--enable-unsafe-webgpu'] });
  noGpuBrowser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...FLAGS, '--disable-webgpu'] });
});

after(async () => {
  await browser?.close();
  await noGpuBrowser?.close();
  server?.close();
});

/** The page at `query`; `init` (a function) runs in it before the page's own scripts. */
export async function open(b, query, { init } = {}) {
  const page = await b.newPage({ viewport: { width: 1280, height: 800 } });
  if (init) await page.addInitScript(init);
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(`${base}/www/index.html${query}`);
  page.logs = logs;
  return page;
}

export const status = (page) => page.evaluate(() => window.vaelab.status());

/**
 * Waits until the page's status satisfies `pred` and the page has drawn that
 * status (views draw on the next animation frame), so what a test reads from
 * the page afterwards is what the status says.
 */
export async function waitFor(page, what, pred, timeout = 600_000) {
  const start = Date.now();
  for (;;) {
    const s = await status(page);
    // A status that holds but is not drawn yet is waited on, never taken for a failure.
    if (pred(s)) {
      if (s.drawn) return s;
    } else if (s.state === 'error' && !what.includes('error')) throw new Error(`page error while waiting for ${what}: ${s.error}\n${page.logs.join('\n')}`);
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}; status ${JSON.stringify({ ...s, metrics: s.metrics.length })}\n${page.logs.join('\n')}`);
    await page.waitForTimeout(100);
  }
}

/**
 * Polls `read()` until `ok(value)` holds, then returns the value; fails with
 * the last value seen. For what the page shows after an action: never read
 * once and assert, since the page may not have drawn it yet.
 */
export async function until(what, read, ok, timeout = 60_000) {
  const start = Date.now();
  let last;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() - start > timeout) assert.fail(`timed out after ${timeout} ms waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A locator's text matches `re` (waits for it). */
export const expectText = (locator, re, timeout) => until(`text matching ${re}`, () => locator.textContent(), (t) => t !== null && re.test(t), timeout);
/** A field's value equals `value` (waits for it). */
export const expectValue = (locator, value, timeout) => until(`value ${value}`, () => locator.inputValue(), (v) => v === value, timeout);
/** A locator becomes visible / hidden (Playwright's own wait). */
export const expectVisible = (locator, timeout = 60_000) => locator.waitFor({ state: 'visible', timeout });
export const expectHidden = (locator, timeout = 60_000) => locator.waitFor({ state: 'hidden', timeout });
/** A control becomes disabled / enabled (waits for it). */
export const expectDisabled = (locator, timeout) => until('disabled', () => locator.isDisabled(), (d) => d, timeout);
export const expectEnabled = (locator, timeout) => until('enabled', () => locator.isEnabled(), (d) => d, timeout);

/** Longest main-thread task (ms) since `watchLongTasks`, and how many there were. */
export async function watchLongTasks(page) {
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask', buffered: false });
  });
  return async () => page.evaluate(() => ({ count: window.__long.length, max: Math.max(0, ...window.__long) }));
}

/** Waits for the worker to answer everything sent before: then "no more steps" is a fact, not a wait. */
export const settle = (page) => page.evaluate(() => window.vaelab.settle());

/** Distinct colours on a canvas: a blank or flat canvas has very few. */
function colours(page, testid) {
  return page.evaluate((id) => {
    const c = document.querySelector(`[data-testid=${id}]`);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  }, testid);
}

/** Waits until the canvas shows more than `min` distinct colours (drawn, not blank or flat). */
export const expectDrawn = (page, testid, min, timeout) => until(`${testid} drawn with more than ${min} colours`, () => colours(page, testid), (n) => n > min, timeout);

/**
 * An init script that lets a test hide the page as Chromium hides a
 * background tab, a minimised window or a locked screen: no animation frames
 * (those asked for wait until the page shows again) and the main thread's
 * timers slowed to a minute, as intensive throttling does. Needed because
 * headless Chromium never hides a page: measured with Chromium 156
 * `--headless=new`, a page stays `visible` with frames running behind a newer
 * tab (`bringToFront`), in a window minimised through CDP
 * (`Browser.setWindowBounds`) and as a target created in the background
 * (`Target.createTarget {background: true}`); CDP has no command that sets
 * visibility. The worker's messages and its own timers are left alone, as
 * Chromium leaves them for a hidden tab.
 */
export function hidablePage() {
  const frame = window.requestAnimationFrame.bind(window);
  const later = window.setTimeout.bind(window);
  const every = window.setInterval.bind(window);
  let hidden = false;
  const waiting = [];
  Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { get: () => hidden });
  window.requestAnimationFrame = (cb) => { if (!hidden) return frame(cb); waiting.push(cb); return -1; };
  window.setTimeout = (cb, ms, ...args) => later(cb, hidden ? Math.max(ms || 0, 60_000) : ms, ...args);
  window.setInterval = (cb, ms, ...args) => every(cb, hidden ? Math.max(ms || 0, 60_000) : ms, ...args);
  window.testVisibility = {
    hide() { hidden = true; document.dispatchEvent(new Event('visibilitychange')); },
    show() { hidden = false; document.dispatchEvent(new Event('visibilitychange')); for (const cb of waiting.splice(0)) frame(cb); },
    framesWaiting: () => waiting.length,
  };
}

/** Hides / shows a page opened with `{init: hidablePage}`. */
export const hide = (page) => page.evaluate(() => window.testVisibility.hide());
export const show = (page) => page.evaluate(() => window.testVisibility.show());

/** The status, drawn or not: a hidden page draws nothing, so `waitFor` would wait for ever. */
export const undrawn = (page, what, pred, timeout = 600_000) => until(what, () => status(page), (s) => {
  if (s.state === 'error' && !what.includes('error')) assert.fail(`page error while waiting for ${what}: ${s.error}`);
  return pred(s);
}, timeout);
