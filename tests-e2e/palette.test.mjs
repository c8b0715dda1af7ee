// The charts' palette (www/js/palette.js) through a colour-vision simulator:
// Machado, Oliveira and Fernandes (2009), full severity, in linear RGB. Every
// two colours stay apart (CIE76 ΔE ≥ 15) for normal vision and under
// protanopia, deuteranopia and tritanopia, and every colour stands out from
// the white chart (WCAG's 3:1 for graphics). No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PALETTE, SHAPES, styleOf } from '../www/js/palette.js';

const VISION = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
};
const linear = (c) => { const v = c / 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
const rgb = (hex) => [1, 3, 5].map((i) => linear(parseInt(hex.slice(i, i + 2), 16)));
const seen = (c, m) => m.map((r) => Math.min(1, Math.max(0, r[0] * c[0] + r[1] * c[1] + r[2] * c[2])));
function lab([r, g, b]) {
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047), y = f(0.2126 * r + 0.7152 * g + 0.0722 * b), z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}
const deltaE = (a, b) => Math.hypot(...a.map((v, i) => v - b[i]));
const luminance = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

/** The closest two colours of `palette` as `vision` sees them: `[ΔE, a, b]`. */
function closest(palette, vision) {
  let best = [Infinity, '', ''];
  for (let i = 0; i < palette.length; i++) {
    for (let j = i + 1; j < palette.length; j++) {
      const d = deltaE(lab(seen(rgb(palette[i]), vision)), lab(seen(rgb(palette[j]), vision)));
      if (d < best[0]) best = [d, palette[i], palette[j]];
    }
  }
  return best;
}

test('every two colours of the palette stay apart under each colour-vision deficiency', () => {
  for (const [name, vision] of Object.entries(VISION)) {
    const [d, a, b] = closest(PALETTE, vision);
    assert.ok(d >= 15, `${name}: ${a} and ${b} are ΔE ${d.toFixed(1)} apart`);
  }
  // The simulator tells a bad palette from a good one: the charts' old colours
  // (green #5c940d and orange #e67700) merge under protanopia.
  const [old] = closest(['#0b4fd6', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#1098ad', '#5c940d', '#e67700'], VISION.protanopia);
  assert.ok(old < 5, `the old palette's closest pair is ΔE ${old.toFixed(1)} apart under protanopia`);
});

test('every colour stands out from the white chart (3:1), and runs differ by marker as well as colour', () => {
  for (const hex of PALETTE) {
    const ratio = 1.05 / (luminance(rgb(hex)) + 0.05);
    assert.ok(ratio >= 3, `${hex} is ${ratio.toFixed(2)}:1 against white`);
  }
  // The first runs a class compares each have a colour and a shape of their own.
  const styles = Array.from({ length: PALETTE.length * SHAPES.length }, (_, k) => styleOf(k));
  assert.equal(new Set(styles.map((s) => `${s.color} ${s.marker}`)).size, styles.length);
  assert.equal(new Set(styles.slice(0, SHAPES.length).map((s) => s.marker)).size, SHAPES.length);
});
