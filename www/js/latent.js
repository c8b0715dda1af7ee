// The latent code of the selected run, as its last epoch measured it on the
// test set (numbers from the core's `LatentUsage`; this file only draws):
// a VAE's E_x[KL_j] per dimension in nats, sorted, with the active units
// (variance over the test set of the mean above the threshold, Burda et al.
// 2016) in colour; an AE's per-dimension variance of z, sorted.

import { drawAxes } from './axes.js';
import { PALETTE } from './palette.js';

const FONT = '15px system-ui, sans-serif';

/** Draws `usage` (or a hint when there is none yet) on `canvas`; returns the caption. */
export function drawLatent(canvas, usage, latentSize) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height;
  const pad = { l: 64, r: 16, t: 20, b: 40 };
  const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = FONT;
  if (!usage) {
    ctx.fillStyle = '#444';
    ctx.fillText('Shown after the first epoch: how the test set uses each latent dimension.', pad.l, pad.t + ph / 2);
    return '';
  }
  const vae = usage.klPerDim.length > 0;
  const values = usage.order.map((j) => (vae ? usage.klPerDim[j] : usage.variance[j]));
  const active = usage.order.map((j) => usage.variance[j] > usage.threshold);
  const top = Math.max(...values, 1e-6) * 1.05;
  const bw = pw / values.length;
  for (let k = 0; k < values.length; k++) {
    const h = (ph * Math.max(0, values[k])) / top;
    // Active dark, inactive pale: told apart by lightness, which every colour vision sees (and the table says which).
    ctx.fillStyle = active[k] ? PALETTE[0] : '#cbd5e1';
    ctx.fillRect(pad.l + k * bw, pad.t + ph - h, Math.max(1, bw - (bw > 4 ? 1 : 0)), h);
  }
  drawAxes(ctx, pad, pw, ph, top.toPrecision(2), '0');
  ctx.fillStyle = '#333';
  ctx.fillText(`${vae ? 'KL per dimension (nats)' : 'variance of z per dimension'}, largest first · blue: active unit, grey: inactive`, pad.l + 8, H - 12);
  const n = usage.activeUnits;
  return `${n} of ${latentSize} units active (variance of the ${vae ? 'mean' : 'code'} over the test set > ${+usage.threshold.toPrecision(3)})`;
}

const nats = (x) => (x < 10 ? x.toFixed(3) : x.toFixed(1));

/**
 * What the active units say about a VAE run, in words (the units are the core's count, per epoch):
 * a posterior collapsed whole or in part, and why the loss made it so. Empty for an AE, before the
 * first epoch, and while every unit is active.
 */
export function collapseNote(run) {
  const last = run?.tests.at(-1);
  if (!last || run.config.lossMode !== 'vae') return '';
  const d = run.config.latentSize;
  const n = last.activeUnits;
  if (n >= d) return '';
  const byEpoch = `Active units by epoch: ${run.tests.slice(-8).map((t) => t.activeUnits).join(' → ')}.`;
  const cost = run.config.betaMode === 'capacity' ? '' : ` At β ${+last.beta.toPrecision(4)} each nat of KL costs ${+last.beta.toPrecision(4)} of reconstruction error:`;
  if (n === 0) {
    return `Posterior collapse: no unit is active. For every test image the encoder gives nearly the prior N(0, I) (test KL ${nats(last.kl)} nats over all ${d} units), so the code tells the decoder nothing and every reconstruction is the same average picture.${cost ? `${cost} telling the decoder nothing is cheapest.` : ''} Free bits (λ nats per unit free of the KL's cost) or a smaller β keep the units. ${byEpoch}`;
  }
  return `${d - n} of ${d} units are inactive: for every image their posterior is the prior, so they carry nothing (the posterior has collapsed in those units).${cost ? `${cost} the VAE keeps only the units worth that cost.` : ''} ${byEpoch}`;
}
