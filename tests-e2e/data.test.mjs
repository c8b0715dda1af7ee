// CIFAR-10 arrives once: stored in the browser on the first visit and read
// from there afterwards (the server sees no request for a .bin file), never
// counted twice, and the page still trains where the browser refuses storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { OUT, MINI, HAVE_MINI, base, browser, requests, waitFor, needs, expectText } from './harness.mjs';

const NO_MINI = needs(HAVE_MINI, 'no CIFAR-10 mini slice under the data root');
const SIX = '?data=/data-six/';

async function openIn(context, query) {
  const page = await context.newPage();
  page.logs = [];
  page.on('console', (m) => page.logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.logs.push(`pageerror: ${e.message}`));
  await page.goto(`${base}/www/index.html${query}`);
  return page;
}

const bins = () => requests.filter((p) => p.endsWith('.bin'));
const loaded = (n) => (s) => !s.dataLoading && s.dataFiles.length === n;

test('the six files download once; a reload reads them from storage with no request; "forget" downloads again', { skip: NO_MINI }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  requests.length = 0;
  const page = await openIn(context, SIX);
  let s = await waitFor(page, 'six stored files', (x) => loaded(6)(x) && x.dataFiles.every((f) => f.stored));
  assert.equal(s.trainImages, 1000);
  assert.equal(s.testImages, 500);
  assert.equal(bins().length, 6, `first visit: ${bins()}`);
  assert.ok(s.dataFiles.every((f) => f.from === 'server'));
  assert.equal(s.storage.refused, null);
  assert.ok(s.deviceBytes >= 1500 * 3072, `pixels resident on the GPU: ${s.deviceBytes}`);

  requests.length = 0;
  await page.reload();
  s = await waitFor(page, 'six files from storage', loaded(6));
  assert.deepEqual(bins(), [], 'a reload must not ask the server for any .bin');
  assert.ok(s.dataFiles.every((f) => f.from === 'storage' && f.stored));
  assert.equal(s.trainImages, 1000);
  await expectText(page.locator('[data-testid=data-text]'), /6 files from this browser's storage \(4\.6 MB\)/);
  await page.locator('[data-testid=data-panel]').screenshot({ path: path.join(OUT, 'data-from-storage.png') });

  await page.click('[data-testid=forget-data]');
  await waitFor(page, 'forgotten', (x) => !x.dataLoading && x.dataFiles.every((f) => !f.stored));
  await expectText(page.locator('[data-testid=data-text]'), /next visit downloads them again/);
  requests.length = 0;
  await page.reload();
  s = await waitFor(page, 'six downloaded files', (x) => loaded(6)(x) && x.dataFiles.every((f) => f.stored));
  assert.equal(bins().length, 6, 'after "forget" the files are downloaded again');
  assert.ok(s.dataFiles.every((f) => f.from === 'server'));

  // A chosen file replaces the stored copy of the same name (one stored copy
  // per file), and is what the next visit reads.
  await page.setInputFiles('[data-testid=file-input]', [path.join(MINI, 'data_batch_1.bin')]);
  s = await waitFor(page, 'the chosen batch', (x) => !x.dataLoading && x.trainImages === 1800 && x.dataFiles.every((f) => f.stored));
  const stored = () => page.evaluate(async () => (await (await caches.open('vaelab-cifar10-v1')).keys()).length);
  assert.equal(await stored(), 6);
  requests.length = 0;
  await page.reload();
  s = await waitFor(page, 'six files from storage', loaded(6));
  assert.deepEqual(bins(), []);
  assert.equal(s.trainImages, 1800, 'the chosen data_batch_1.bin (1,000 images) came back');

  // A stored copy the dataset refuses (damaged in storage) is said, dropped and
  // downloaded again; the other five still come from storage.
  await page.evaluate(async () => {
    const cache = await caches.open('vaelab-cifar10-v1');
    const key = (await cache.keys()).find((r) => r.url.endsWith('/data_batch_2.bin'));
    await cache.put(key, new Response(new Uint8Array(1234)));
  });
  requests.length = 0;
  await page.reload();
  s = await waitFor(page, 'six files, one downloaded again', (x) => loaded(6)(x) && x.dataFiles.every((f) => f.stored));
  assert.deepEqual(bins().map((p) => path.basename(p)), ['data_batch_2.bin']);
  assert.equal(s.dataFiles.find((f) => f.name === 'data_batch_2.bin').from, 'server');
  assert.equal(s.trainImages, 1800);
  assert.ok(s.dataErrors.some((e) => /data_batch_2\.bin/.test(e)), JSON.stringify(s.dataErrors));
  requests.length = 0;
  await page.reload();
  s = await waitFor(page, 'six files from storage again', loaded(6));
  assert.deepEqual(bins(), [], 'the downloaded copy was stored');
  await context.close();
});

test('the same file chosen twice counts once, and a tarball after the .bin files replaces them', { skip: NO_MINI }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await openIn(context, '?data=/nowhere/');
  await waitFor(page, 'no data', (s) => s.state === 'idle' && !s.dataLoading);
  const train = path.join(MINI, 'data_batch_1.bin');
  await page.uncheck('[data-testid=keep-chosen]');
  await page.setInputFiles('[data-testid=file-input]', [train, path.join(MINI, 'test_batch.bin')]);
  let s = await waitFor(page, 'chosen files', (x) => !x.dataLoading && x.trainImages > 0 && x.testImages > 0);
  assert.equal(s.trainImages, 1000);
  assert.ok(s.dataFiles.every((f) => f.from === 'chosen' && !f.stored), 'unticked: not stored');
  // An empty choice starts no data command; the second choice is one more finished command.
  await page.setInputFiles('[data-testid=file-input]', []);
  await page.setInputFiles('[data-testid=file-input]', [train]);
  s = await waitFor(page, 'the second choice', (x) => !x.dataLoading && x.dataDone === s.dataDone + 1);
  assert.equal(s.trainImages, 1000, 'the same file chosen again must replace, not append');
  // A file bigger than any CIFAR-10 file (one record too many) is refused by its size, unread.
  const big = path.join(OUT, 'data_batch_3.bin');
  fs.writeFileSync(big, Buffer.alloc(10_001 * 3073));
  await page.setInputFiles('[data-testid=file-input]', [big]);
  s = await waitFor(page, 'the oversized file', (x) => !x.dataLoading && x.dataDone === s.dataDone + 1);
  assert.ok(s.dataErrors.some((e) => /^data_batch_3\.bin is 30,733,073 bytes, more than a CIFAR-10 file can be \(30,730,000 bytes\); not read$/.test(e)), JSON.stringify(s.dataErrors));
  assert.equal(s.trainImages, 1000);
  // The official archive's members replace the .bin files (and are stored: the box is ticked again).
  const dir = path.join(OUT, 'tar', 'cifar-10-batches-bin');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['data_batch_1.bin', 'test_batch.bin']) fs.copyFileSync(path.join(MINI, f), path.join(dir, f));
  const archive = path.join(OUT, 'tar', 'cifar-10-binary.tar.gz');
  execFileSync('tar', ['czf', archive, '-C', path.join(OUT, 'tar'), 'cifar-10-batches-bin']);
  await page.check('[data-testid=keep-chosen]');
  await page.setInputFiles('[data-testid=file-input]', [archive]);
  s = await waitFor(page, 'the archive', (x) => !x.dataLoading && x.dataFiles.every((f) => f.stored));
  assert.equal(s.trainImages, 1000);
  assert.equal(s.testImages, 500);
  // Stored chosen files come back on the next visit without a file dialog.
  await page.reload();
  s = await waitFor(page, 'stored chosen files', (x) => !x.dataLoading && x.trainImages === 1000 && x.testImages === 500);
  assert.ok(s.dataFiles.every((f) => f.from === 'storage'));
  await context.close();
});

test('where the browser refuses storage the page says so and still trains', { skip: NO_MINI }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // A one-byte quota for this origin (0 would mean "reset"): every attempt to
  // store fails with QuotaExceededError, as on a full disk.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: base, quotaSize: 1 });
  page.logs = [];
  page.on('console', (m) => page.logs.push(`${m.type()}: ${m.text()}`));
  // Training here is the page's claim, not WebGPU's: on the CPU backend (faster than SwiftShader).
  await page.goto(`${base}/www/index.html${SIX}&images=32&tests=16&batchSize=16&latentSize=16&numEpochs=1&autostart=1&backend=cpu`);
  // The run may end before the six files are in and their storing refused (autostart
  // starts on the first two): wait for both, not for the run alone.
  const s = await waitFor(page, 'the end of the run and of data loading', (x) => x.state === 'done' && !x.dataLoading && x.dataFiles.length === 6);
  assert.ok(s.storage.refused, 'the refusal is reported');
  assert.ok(s.dataFiles.every((f) => !f.stored));
  assert.equal(s.testMetrics.length, 1);
  await expectText(page.locator('[data-testid=storage-note]'), /did not let VAE Lab keep the data/);
  await page.locator('[data-testid=data-panel]').screenshot({ path: path.join(OUT, 'data-storage-refused.png') });
  await context.close();
});
