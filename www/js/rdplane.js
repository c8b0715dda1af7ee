// The rate–distortion plane across the session's VAE runs: each run a point
// at its last test epoch (rate = test KL in nats, distortion = test recon),
// runs of one latent size joined, and lines of equal recon + KL (the
// negative ELBO) behind them. The numbers are the core's test metrics.

import { drawAxes } from './axes.js';
import { styleOf, drawMarker } from './palette.js';

const FONT = '14px system-ui, sans-serif';

/** The points the plane shows: `[{id, latent, rate, distortion, label}]`. */
export function ratePoints(runs) {
  return runs
    .filter((r) => r.config.lossMode === 'vae' && r.tests.length)
    .map((r) => {
      const t = r.tests[r.tests.length - 1];
      return { id: r.id, latent: r.config.latentSize, rate: t.kl, distortion: t.recon };
    })
    .filter((p) => Number.isFinite(p.rate) && Number.isFinite(p.distortion));
}

export function drawRatePlane(canvas, runs) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height;
  const pad = { l: 70, r: 20, t: 20, b: 44 };
  const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = FONT;
  canvas.hoverPoints = [];
  const points = ratePoints(runs);
  ctx.fillStyle = '#444';
  if (!points.length) {
    ctx.fillText('Each finished VAE epoch puts its run here: test KL (rate) against test recon (distortion).', pad.l, pad.t + ph / 2);
    return;
  }
  const span = (vals) => {
    const lo = Math.min(...vals), hi = Math.max(...vals);
    const m = (hi - lo) * 0.15 || Math.abs(hi) * 0.1 || 1;
    return [lo - m, hi + m];
  };
  // A rate is a KL: the axis starts at 0 nats (a collapsed run's point sits on it).
  const x0 = 0;
  const x1 = Math.max(1, 1.15 * Math.max(...points.map((p) => p.rate)));
  const [y0, y1] = span(points.map((p) => p.distortion));
  const X = (v) => pad.l + ((v - x0) / (x1 - x0)) * pw;
  const Y = (v) => pad.t + ph - ((v - y0) / (y1 - y0)) * ph;
  ctx.save();
  ctx.beginPath();
  // Room left of the axis for a marker at rate 0.
  ctx.rect(pad.l - 8, pad.t, pw + 8, ph);
  ctx.clip();
  // recon + KL = c: a line of slope -1 in (rate, distortion).
  const cLo = x0 + y0, cHi = x1 + y1;
  const step = niceStep((cHi - cLo) / 6);
  ctx.strokeStyle = '#dee2e6';
  ctx.fillStyle = '#adb5bd';
  for (let c = Math.ceil(cLo / step) * step; c <= cHi; c += step) {
    ctx.beginPath();
    ctx.moveTo(X(x0), Y(c - x0));
    ctx.lineTo(X(x1), Y(c - x1));
    ctx.stroke();
    const xl = Math.min(x1, c - y0) - (x1 - x0) * 0.02;
    if (xl > x0) ctx.fillText(`${+c.toPrecision(4)}`, X(xl) - 30, Y(c - xl) - 4);
  }
  const sizes = [...new Set(points.map((p) => p.latent))].sort((a, b) => a - b);
  sizes.forEach((latent, k) => {
    const group = points.filter((p) => p.latent === latent).sort((a, b) => a.rate - b.rate);
    const { color, marker } = styleOf(k);
    ctx.strokeStyle = ctx.fillStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    group.forEach((p, i) => (i ? ctx.lineTo(X(p.rate), Y(p.distortion)) : ctx.moveTo(X(p.rate), Y(p.distortion))));
    ctx.stroke();
    for (const p of group) {
      drawMarker(ctx, marker, X(p.rate), Y(p.distortion), 5);
      canvas.hoverPoints.push({ x: X(p.rate), y: Y(p.distortion), text: `#${p.id}, latent ${p.latent}: test KL ${p.rate.toFixed(2)}, test recon ${p.distortion.toFixed(1)}` });
      ctx.fillText(`#${p.id}`, X(p.rate) + 7, Y(p.distortion) - 7);
    }
  });
  ctx.restore();
  drawAxes(ctx, pad, pw, ph, y1.toFixed(0), y0.toFixed(0));
  ctx.fillStyle = '#333';
  ctx.fillText(x0.toFixed(1), pad.l, H - 26);
  ctx.textAlign = 'right';
  ctx.fillText(x1.toFixed(1), pad.l + pw, H - 26);
  ctx.textAlign = 'left';
  ctx.fillText('rate: test KL (nats) →    distortion: test recon ↑    grey lines: recon + KL = const', pad.l, H - 6);
  // One key per latent size, top right.
  let x = pad.l + pw - 8;
  ctx.textAlign = 'right';
  for (let k = sizes.length - 1; k >= 0; k--) {
    const text = `latent ${sizes[k]}`;
    ctx.fillStyle = '#333';
    ctx.fillText(text, x, pad.t + 14);
    x -= ctx.measureText(text).width + 6;
    ctx.fillStyle = styleOf(k).color;
    drawMarker(ctx, styleOf(k).marker, x - 5, pad.t + 9, 5);
    x -= 22;
  }
  ctx.textAlign = 'left';
}

function niceStep(raw) {
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
}
