// The latent panel (issue 11): numbers from the core, drawn by www/js/latent.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, HAVE_MINI, browser, open, waitFor, colours, needs } from './harness.mjs';

const NO_MINI = needs(HAVE_MINI, 'no CIFAR-10 mini slice under the data root');

test('after one epoch of a VAE the latent panel shows bars and the active-unit count, the KL its own chart', { skip: NO_MINI }, async () => {
  const page = await open(browser, '?data=/data-mini/&images=32&tests=32&batchSize=16&latentSize=16&numEpochs=1&lossMode=vae&autostart=1');
  const note = page.locator('[data-testid=latent-note]');
  assert.equal((await note.textContent()).trim(), '');
  await waitFor(page, 'the end of the run', (s) => s.state === 'done');
  await page.screenshot({ path: path.join(OUT, 'latent.png'), fullPage: true });
  assert.match(await note.textContent(), /^\d+ of 16 units active \(variance of the mean over the test set > 0\.01\)$/);
  assert.ok(await colours(page, 'latent-chart') > 2, 'the latent chart has no bars');
  // The KL has its own chart (on the recon's axis it was a flat line), and a
  // finished run reads its last epoch as whole.
  assert.ok(await page.locator('[data-testid=kl-chart]').isVisible());
  assert.ok(await colours(page, 'kl-chart') > 20, 'the KL chart looks blank');
  assert.match(await page.locator('[data-testid=step-text]').textContent(), /^32 \/ 32 images$/);
  await page.close();
});
