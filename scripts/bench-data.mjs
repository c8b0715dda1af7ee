// What a visit costs in data: for each page build given (a folder holding www/
// and pkg/, e.g. this checkout and a worktree of an older commit), open the
// page on the full CIFAR-10 in a fresh browser profile, then reload it in the
// same profile. Reports, per visit, the bytes of .bin files the server sent,
// the seconds until a run could start (one training batch and the test batch
// in) and until all six files were in.
//
//   node scripts/bench-data.mjs [--mbps 100] NAME=DIR [NAME=DIR ...]
//
// --mbps paces the .bin files through one shared link of that many megabits
// per second (a classroom's Wi-Fi); without it they go at loopback speed.
//
// Data: cifar-10-batches-bin under the data root (as src/lib.rs finds it),
// served at /data/ beside the page, as a teacher would host it.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { dataRoot as findDataRoot } from './data-root.mjs';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let mbps = 0;
const builds = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--mbps') mbps = Number(args[++i]);
  else { const [name, dir] = args[i].split('='); builds.push({ name, dir: path.resolve(dir) }); }
}
if (!builds.length) builds.push({ name: 'this checkout', dir: HERE });
const dataRoot = findDataRoot();
const FULL = path.join(dataRoot, 'cifar-10-batches-bin');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

let binBytes = 0;
let linkFree = 0; // when the shared link has sent everything queued so far (ms)

/** Send `body` through the paced link in 64 KB pieces. */
function paced(res, body) {
  const piece = 65536;
  let o = 0;
  const next = () => {
    if (o >= body.length) { res.end(); return; }
    const chunk = body.subarray(o, o + piece);
    o += chunk.length;
    const now = Date.now();
    linkFree = Math.max(now, linkFree) + (chunk.length * 8) / (mbps * 1e3);
    setTimeout(() => res.write(chunk, next), Math.max(0, linkFree - now));
  };
  next();
}

function serve(root) {
  const server = http.createServer((req, res) => {
    const u = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const p = u.startsWith('/data/') ? path.join(FULL, path.basename(u)) : path.join(root, path.normalize(u));
    fs.readFile(p, (err, body) => {
      if (err) { res.writeHead(404); res.end(); return; }
      if (p.endsWith('.bin')) binBytes += body.length;
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] || 'application/octet-stream', 'content-length': body.length });
      if (mbps > 0 && p.endsWith('.bin')) paced(res, body);
      else res.end(body);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu-sandbox'],
});

/** Seconds from navigation until a run could start, and until all 60,000 images are in. */
async function visit(page, go) {
  binBytes = 0;
  const t0 = Date.now();
  await go();
  let canStart = null;
  for (;;) {
    const s = await page.evaluate(() => window.vaelab && window.vaelab.status());
    if (s && canStart === null && s.trainImages > 0 && s.testImages > 0) canStart = (Date.now() - t0) / 1000;
    if (s && s.trainImages === 50000 && s.testImages === 10000 && s.state === 'idle' && !s.dataLoading) break;
    if (Date.now() - t0 > 900_000) throw new Error(`timed out: ${JSON.stringify(s && { ...s, metrics: 0 })}`);
    await page.waitForTimeout(100);
  }
  const s = await page.evaluate(() => window.vaelab.status());
  return { bytes: binBytes, canStart, all: (Date.now() - t0) / 1000, wasm: s.wasmMemory };
}

console.log(mbps ? `.bin files through a shared ${mbps} Mbit/s link` : '.bin files at loopback speed');
console.log('| build | visit | .bin bytes from the server | s until a run can start | s until all six files are in | worker wasm memory |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const { name, dir } of builds) {
  const server = await serve(dir);
  const url = `http://127.0.0.1:${server.address().port}/www/index.html?data=/data/`;
  const context = await browser.newContext();
  const page = await context.newPage();
  const first = await visit(page, () => page.goto(url));
  const second = await visit(page, () => page.reload());
  for (const [label, r] of [['first', first], ['second (reload)', second]]) {
    console.log(`| ${name} | ${label} | ${(r.bytes / 1e6).toFixed(1)} MB | ${r.canStart.toFixed(1)} | ${r.all.toFixed(1)} | ${(r.wasm / 1e6).toFixed(0)} MB |`);
  }
  await context.close();
  server.close();
}
await browser.close();
