// Runs www/bench.html in headless Chromium (Debian's, with WebGPU) and prints
// its numbers. Usage: node scripts/bench-browser.mjs [query], e.g.
//   node scripts/bench-browser.mjs 'latentSize=128&batchSize=16&steps=3&warmup=1'
// Needs pkg/ built (wasm-pack build --release --target web --out-dir pkg).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

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
  args: ['--no-sandbox', '--headless=new', '--enable-unsafe-webgpu', '--disable-background-networking', '--no-first-run'],
});
const page = await browser.newPage();
page.on('console', (m) => console.log(m.text()));
await page.goto(`http://127.0.0.1:${server.address().port}/www/bench.html?${process.argv[2] || ''}`);
await page.waitForFunction(() => window.benchResult, null, { timeout: 0 });
const result = await page.evaluate(() => window.benchResult);
await browser.close();
server.close();
if (result.error) { console.error(result.error); process.exit(1); }
