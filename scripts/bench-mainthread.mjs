// How much training blocks the page's main thread: for each page build given
// (a folder holding www/ and pkg/, e.g. this checkout and a worktree of an
// older commit) and each backend, train from a URL for a while in headless
// Chromium and record PerformanceObserver 'longtask' entries (tasks > 50 ms).
// Prints the longest task and the share of wall time spent in long tasks.
// Then runs the seven presets one after another (one epoch of 16 images each,
// CPU backend) and reports the page's JS heap and the worker's wasm memory.
//
//   node scripts/bench-mainthread.mjs [--seconds 40] [--query '...'] NAME=DIR [NAME=DIR ...]
//
// Data: the mini slice under the data root (as src/lib.rs finds it).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { dataRoot as findDataRoot } from './data-root.mjs';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let seconds = 40;
let query = 'images=512&tests=100&batchSize=64&latentSize=128&numEpochs=50&autostart=1';
const builds = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (args[i] === '--query') query = args[++i];
  else { const [name, dir] = args[i].split('='); builds.push({ name, dir: path.resolve(dir) }); }
}
if (!builds.length) builds.push({ name: 'this checkout', dir: HERE });
const dataRoot = findDataRoot();
const MINI = path.join(dataRoot, 'cifar-10-batches-bin-mini');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

function serve(root) {
  const server = http.createServer((req, res) => {
    const u = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const p = u.startsWith('/data-mini/') ? path.join(MINI, path.basename(u)) : path.join(root, path.normalize(u));
    fs.readFile(p, (err, body) => {
      if (err) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] || 'application/octet-stream' });
      res.end(body);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu-sandbox'],
});
console.log(`| build | backend | steps in ${seconds} s | long tasks | longest task | main thread blocked |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const { name, dir } of builds) {
  const server = await serve(dir);
  const base = `http://127.0.0.1:${server.address().port}`;
  for (const backend of ['webgpu', 'cpu']) {
    const page = await browser.newPage();
    await page.goto(`${base}/www/index.html?data=/data-mini/&${query}${backend === 'cpu' ? '&backend=cpu' : ''}`);
    await page.waitForFunction(() => window.vaelab && window.vaelab.status().metrics.length > 0, null, { timeout: 600_000 });
    const r = await page.evaluate(async (ms) => {
      const tasks = [];
      const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) tasks.push(e.duration); });
      obs.observe({ type: 'longtask', buffered: false });
      const steps0 = window.vaelab.status().metrics.length;
      const t0 = performance.now();
      await new Promise((res) => setTimeout(res, ms));
      obs.disconnect();
      const wall = performance.now() - t0;
      return { steps: window.vaelab.status().metrics.length - steps0, count: tasks.length, max: Math.max(0, ...tasks), blocked: tasks.reduce((a, b) => a + b, 0) / wall };
    }, seconds * 1000);
    console.log(`| ${name} | ${backend} | ${r.steps} | ${r.count} | ${r.max.toFixed(0)} ms | ${(100 * r.blocked).toFixed(1)} % |`);
    await page.close();
  }
  server.close();
}

console.log('\n| build | after the seven presets: page JS heap | engine wasm memory | runs holding weights |');
console.log('| --- | --- | --- | --- |');
for (const { name, dir } of builds) {
  const server = await serve(dir);
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/www/index.html?data=/data-mini/&images=16&tests=16&batchSize=16&numEpochs=1&backend=cpu`);
  await page.waitForFunction(() => window.vaelab && window.vaelab.status().trainImages === 16 && window.vaelab.status().state === 'idle', null, { timeout: 120_000 });
  const presets = ['ae16', 'ae128', 'ae1024', 'vae', 'vae08', 'vae12', 'vaeanneal'];
  for (const [i, id] of presets.entries()) {
    await page.click(`[data-testid=preset-${id}]`);
    await page.waitForFunction((n) => { const s = window.vaelab.status(); return s.runs === n && s.state === 'done'; }, i + 1, { timeout: 600_000, polling: 500 });
  }
  // Let the last snapshot arrive, then collect garbage before reading the heap.
  await page.waitForTimeout(2000);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const m = await page.evaluate(() => ({ heap: performance.memory.usedJSHeapSize, s: window.vaelab.status() }));
  const held = m.s.heldSnapshots ?? 'all (one per run)';
  console.log(`| ${name} | ${(m.heap / 1e6).toFixed(1)} MB | ${m.s.wasmMemory ? `${(m.s.wasmMemory / 1e6).toFixed(0)} MB` : 'in the page (not separable)'} | ${held} |`);
  await page.close();
  server.close();
}
await browser.close();
