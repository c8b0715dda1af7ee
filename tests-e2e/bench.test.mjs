// The benchmark page (www/bench.html): what it is asked to measure is read
// as given, and a value it cannot use is named instead of measured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base, browser, until } from './harness.mjs';

/** bench.html at `query`, models left out (no training): its result once it has one. */
async function benchResult(query) {
  const page = await browser.newPage();
  await page.goto(`${base}/www/bench.html?models=&${query}`);
  const result = await until('the benchmark result', () => page.evaluate(() => window.benchResult), (r) => r);
  await page.close();
  return result;
}

test('bench.html names a tasksMax that is no count of launches, and takes one that is', async () => {
  for (const bad of ['abc', '0', '-4', '2.5', '1e3']) {
    const r = await benchResult(`tasksMax=${bad}`);
    assert.equal(r.error, `tasksMax: "${bad}" is not a number of launches per submit (1 to 999999)`);
  }
  const ok = await benchResult('tasksMax=256&data=device');
  assert.equal(ok.error, undefined, ok.error);
});
