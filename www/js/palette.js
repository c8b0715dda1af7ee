// One palette for every chart, and shapes beside it. The colours are Okabe
// and Ito's (2008), picked to stay apart under protanopia, deuteranopia and
// tritanopia, less their yellow, orange and sky blue, which are too pale
// against white (under 3:1); tests-e2e/palette.test.mjs holds them to both
// with a colour-vision simulator. Colour is never the only difference: runs
// also differ by marker shape, and lines of one chart by dash or markers.

export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#000000'];

/** What each part of the loss and KL charts is drawn in. */
export const ROLE = { recon: PALETTE[0], kl: PALETTE[1], beta: PALETTE[2] };

export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross', 'star'];

/** The `k`-th of a set of things (runs, latent sizes): its colour and its marker, which repeat at different periods. */
export const styleOf = (k) => ({ color: PALETTE[k % PALETTE.length], marker: SHAPES[k % SHAPES.length] });

/** A filled marker of `shape`, `r` pixels from its centre, in the context's fill colour. */
export function drawMarker(ctx, shape, x, y, r) {
  ctx.beginPath();
  if (shape === 'square') ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
  else if (shape === 'triangle') polygon(ctx, x, y, r * 1.2, 3, -Math.PI / 2);
  else if (shape === 'diamond') polygon(ctx, x, y, r * 1.2, 4, 0);
  else if (shape === 'star') polygon(ctx, x, y, r * 1.3, 5, -Math.PI / 2, 0.5);
  else if (shape === 'cross') {
    const w = r * 0.45;
    for (const [dx, dy] of [[-r, -w], [-w, -r]]) ctx.rect(x + dx, y + dy, -2 * dx, -2 * dy);
  } else ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fill();
}

function polygon(ctx, x, y, r, corners, start, inner = 1) {
  const n = inner === 1 ? corners : 2 * corners;
  for (let i = 0; i < n; i++) {
    const a = start + (2 * Math.PI * i) / n;
    const rr = inner === 1 || i % 2 === 0 ? r : r * inner;
    if (i) ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a)); else ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
}
