// Loss curves on a canvas: reconstruction and KL on the left axis, beta on
// the right, epochs along the bottom, with a legend and markers where beta
// was changed during the run.

import { drawMarker } from './palette.js';

const FONT = '15px system-ui, sans-serif';

function niceTicks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

/** A value as the tables show it: a few nats to 3 decimals, larger ones to 1. */
const exact = (v) => (Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(1));

function fmt(v) {
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * series: [{label, color, points: [[x, y]], axis: 'left'|'right', width, dash, dots, marker}]
 * (`dots`: one point per epoch, each drawn as `marker`, palette.js's SHAPES; a circle when none)
 * markers: [{x, label}]
 */
export function drawChart(canvas, { series, markers = [], xMax = 1, yLabel = 'loss', rightLabel = 'β', empty = 'Press Train to see the curves' }) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height;
  const pad = { l: 64, r: 52, t: 34, b: 40 };
  const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = FONT;
  const left = series.filter((s) => s.axis !== 'right' && s.points.length);
  const right = series.filter((s) => s.axis === 'right' && s.points.length);
  canvas.hoverPoints = [];
  if (!left.length && !right.length) {
    ctx.fillStyle = '#444';
    ctx.fillText(empty, pad.l + 10, pad.t + ph / 2);
    return;
  }
  // Left range: ignore the first few percent of each step series (the huge
  // first losses) so the interesting part fills the chart.
  let lo = Infinity, hi = -Infinity;
  for (const s of left) {
    const skip = s.dots ? 0 : Math.floor(s.points.length * 0.04);
    for (const [, y] of s.points.slice(skip)) { if (Number.isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); } }
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (hi - lo < 1e-6 * Math.abs(hi) + 1e-9) { const d = Math.max(1, 0.05 * Math.abs(hi)); lo -= d; hi += d; }
  lo = Math.max(0, lo - 0.05 * (hi - lo));
  hi = hi + 0.05 * (hi - lo || 1);
  let rhi = 0;
  for (const s of right) for (const [, y] of s.points) rhi = Math.max(rhi, y);
  rhi = Math.max(rhi * 1.1, 1e-6);
  const X = (x) => pad.l + (x / (xMax || 1)) * pw;
  const Y = (y) => pad.t + ph - ((y - lo) / (hi - lo)) * ph;
  const R = (y) => pad.t + ph - (y / rhi) * ph;

  ctx.strokeStyle = '#e3e3e3';
  ctx.fillStyle = '#222';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  for (const t of niceTicks(lo, hi)) {
    ctx.beginPath(); ctx.moveTo(pad.l, Y(t)); ctx.lineTo(pad.l + pw, Y(t)); ctx.stroke();
    ctx.fillText(fmt(t), pad.l - 6, Y(t) + 5);
  }
  ctx.textAlign = 'center';
  for (const t of niceTicks(0, xMax, Math.min(10, Math.max(1, Math.ceil(xMax))))) {
    ctx.fillText(fmt(t).replace(/\.0+$/, ''), X(t), pad.t + ph + 18);
  }
  ctx.fillText('epoch', pad.l + pw / 2, H - 4);
  if (right.length) {
    ctx.textAlign = 'left';
    for (const t of niceTicks(0, rhi, 4)) ctx.fillText(fmt(t), pad.l + pw + 6, R(t) + 5);
    ctx.save(); ctx.translate(W - 8, pad.t + ph / 2); ctx.rotate(Math.PI / 2); ctx.textAlign = 'center'; ctx.fillText(rightLabel, 0, 0); ctx.restore();
  }
  ctx.save(); ctx.translate(14, pad.t + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = 'center'; ctx.fillText(yLabel, 0, 0); ctx.restore();
  ctx.strokeStyle = '#222';
  ctx.strokeRect(pad.l, pad.t, pw, ph);

  for (const m of markers) {
    ctx.strokeStyle = '#a40000'; ctx.setLineDash([4, 4]);
    ctx.beginPath(); ctx.moveTo(X(m.x), pad.t); ctx.lineTo(X(m.x), pad.t + ph); ctx.stroke();
    ctx.setLineDash([]); ctx.fillStyle = '#a40000'; ctx.textAlign = 'left';
    ctx.fillText(m.label, X(m.x) + 4, pad.t + ph - 6);
  }

  ctx.save();
  ctx.beginPath(); ctx.rect(pad.l, pad.t, pw, ph); ctx.clip();
  for (const s of [...left, ...right]) {
    const yf = s.axis === 'right' ? R : Y;
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color;
    ctx.lineWidth = s.width || 2;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), yf(y)) : ctx.moveTo(X(x), yf(y))));
    ctx.stroke();
    if (s.dots) {
      for (const [x, y] of s.points) {
        drawMarker(ctx, s.marker || 'circle', X(x), yf(y), 4);
        // Each epoch's point, for the exact value under the pointer (chart-hover.js).
        canvas.hoverPoints.push({ x: X(x), y: yf(y), text: `${s.label}, epoch ${x}: ${exact(y)}` });
      }
    }
  }
  ctx.restore();
  ctx.setLineDash([]);

  // Legend along the top.
  let lx = pad.l;
  ctx.textAlign = 'left';
  // Each key drawn as its series is (dash, marker), not only in its colour.
  for (const s of [...left, ...right]) {
    ctx.strokeStyle = ctx.fillStyle = s.color;
    ctx.lineWidth = s.width || 2;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath(); ctx.moveTo(lx, 15); ctx.lineTo(lx + 24, 15); ctx.stroke();
    ctx.setLineDash([]);
    if (s.dots) drawMarker(ctx, s.marker || 'circle', lx + 12, 15, 4);
    ctx.fillStyle = '#111';
    ctx.fillText(s.label, lx + 28, 20);
    lx += 36 + ctx.measureText(s.label).width;
  }
}

/** Exponential moving average, to read a noisy per-step curve. */
export function smooth(points, alpha = 0.1) {
  let m = null;
  return points.map(([x, y]) => [x, (m = m === null ? y : m + alpha * (y - m))]);
}
