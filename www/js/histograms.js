// Histograms of the test set's codes, one small panel per latent dimension,
// each with N(0, 1)'s density over it (both computed by the core:
// latent.rs `histogram`); this file only draws them.

import { ROLE } from './palette.js';

const FONT = '13px system-ui, sans-serif';

/** `histograms`: [{dim, lo, hi, density, prior}]; `symbol`: 'μ' or 'z'. */
export function drawHistograms(canvas, histograms, symbol) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = FONT;
  const n = histograms.length;
  if (!n) return;
  const pw = W / n;
  histograms.forEach((h, k) => {
    const pad = { l: 10, r: 10, t: 22, b: 22 };
    const x0 = k * pw + pad.l, w = pw - pad.l - pad.r, y0 = pad.t, ph = H - pad.t - pad.b;
    const top = Math.max(...h.density, ...h.prior) * 1.05 || 1;
    const bw = w / h.density.length;
    ctx.fillStyle = '#93c5fd';
    h.density.forEach((d, i) => {
      const bh = (ph * d) / top;
      ctx.fillRect(x0 + i * bw, y0 + ph - bh, Math.max(1, bw - 1), bh);
    });
    ctx.strokeStyle = ROLE.beta;
    ctx.lineWidth = 2;
    ctx.beginPath();
    h.prior.forEach((p, i) => {
      const x = x0 + (i + 0.5) * bw, y = y0 + ph - (ph * p) / top;
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
    ctx.strokeStyle = '#333';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x0, y0 + ph);
    ctx.lineTo(x0 + w, y0 + ph);
    ctx.stroke();
    ctx.fillStyle = '#333';
    ctx.textAlign = 'left';
    ctx.fillText(`${symbol}${sub(h.dim)} (dim ${h.dim})`, x0, 15);
    ctx.fillText(h.lo.toFixed(1), x0, H - 6);
    ctx.textAlign = 'right';
    ctx.fillText(h.hi.toFixed(1), x0 + w, H - 6);
    ctx.textAlign = 'left';
  });
  ctx.fillStyle = ROLE.beta;
  ctx.textAlign = 'right';
  ctx.fillText('green: N(0, 1)', W - 10, 15);
  ctx.textAlign = 'left';
}

function sub(n) {
  return String(n).replace(/\d/g, (d) => '₀₁₂₃₄₅₆₇₈₉'[d]);
}
