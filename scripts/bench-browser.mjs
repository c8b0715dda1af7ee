// Runs www/bench.html in headless Chromium (Debian's, with WebGPU) and prints
// its numbers. Usage: node scripts/bench-browser.mjs [query], e.g.
//   node scripts/bench-browser.mjs 'latentSize=128&batchSize=16&steps=3&warmup=1'
// profile=1 adds the host's milliseconds per step (see below).
// CHROMIUM_FLAGS adds flags to Chromium (see below).
// Needs pkg/ built (scripts/build-page.sh).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { threadMillis } from './trace-threads.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = http.createServer((req, res) => {
  const p = path.join(ROOT, path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  fs.readFile(p, (err, body) => {
    if (err) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[path.extname(p)] || 'application/octet-stream' });
    res.end(body);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  // CHROMIUM_FLAGS: more flags, space-separated, e.g. Dawn's toggles
  // (`--enable-dawn-features=disable_robustness,disable_workgroup_init`) to
  // measure what WebGPU's mandatory safety costs the kernels.
  args: ['--no-sandbox', '--headless=new', '--enable-unsafe-webgpu', '--disable-background-networking', '--no-first-run',
    ...(process.env.CHROMIUM_FLAGS || '').split(/\s+/).filter(Boolean)],
});
const page = await browser.newPage();
page.on('console', (m) => console.log(m.text()));
// profile=1: the page's own thread profiled over the timed steps (Chrome
// DevTools Protocol's sampling profiler). Busy time is every sample but the
// idle ones; with the GPU's work queued and not waited for, that is the host
// work a step costs (wasm, JavaScript, the WebGPU calls, the collector).
if (new URLSearchParams(process.argv[2] || '').get('profile') === '1') {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  // Beside it, a trace of the same window: its tasks' thread time (`tdur`)
  // counts only what the thread ran, not time it waited for a core, where
  // the sampled busy time counts both (on a 2-core machine whose other work
  // is the emulated GPU, the two differ).
  const trace = await browser.newBrowserCDPSession();
  await page.exposeFunction('benchProfile', async (what) => {
    if (what === 'start') {
      await trace.send('Tracing.start', { traceConfig: { includedCategories: ['toplevel', 'devtools.timeline'] }, transferMode: 'ReturnAsStream' });
      return cdp.send('Profiler.start');
    }
    const { profile } = await cdp.send('Profiler.stop');
    const cpuMs = await taskThreadMillis(trace);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    let busy = 0;
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] || 0) / 1000;
      const name = byId.get(id).callFrame.functionName || '(anonymous)';
      if (name === '(idle)') return;
      busy += ms;
      self.set(name, (self.get(name) || 0) + ms);
    });
    // By crate too, where the module kept its function names (a build with
    // CARGO_PROFILE_RELEASE_STRIP=false): `burn_fusion::…` counts for burn_fusion.
    const crates = new Map();
    for (const [name, ms] of self) {
      const m = /^<?(?:&mut |&)?([a-z_][a-z0-9_]*)::/.exec(name);
      const key = m ? `crate ${m[1]}` : name;
      crates.set(key, (crates.get(key) || 0) + ms);
    }
    const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 12);
    return { busyMs: busy, cpuMs, top: [...sorted(self), ['— by crate —', 0], ...sorted(crates)] };
  });
}

/** Ends the trace and sums its tasks' thread time (trace-threads.mjs). */
async function taskThreadMillis(trace) {
  const complete = new Promise((resolve) => trace.once('Tracing.tracingComplete', resolve));
  await trace.send('Tracing.end');
  const { stream } = await complete;
  let text = '';
  for (;;) {
    const chunk = await trace.send('IO.read', { handle: stream });
    text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString() : chunk.data;
    if (chunk.eof) break;
  }
  await trace.send('IO.close', { handle: stream });
  return threadMillis(JSON.parse(text).traceEvents || []);
}
await page.goto(`http://127.0.0.1:${server.address().port}/www/bench.html?${process.argv[2] || ''}`);
// Polled each second, not on every frame: a frame-rate poll would show up in the host profile.
await page.waitForFunction(() => window.benchResult, null, { timeout: 0, polling: 1000 });
const result = await page.evaluate(() => window.benchResult);
await browser.close();
server.close();
if (result.error) { console.error(result.error); process.exit(1); }
