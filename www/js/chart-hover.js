// A chart's exact value under the pointer: the charts list the points they
// drew (`canvas.hoverPoints`, canvas pixels); the nearest within reach is
// named in a tip beside it. The same numbers are in each chart's table
// (chart-tables.js), which the keyboard and screen readers reach.

const REACH = 14; // canvas pixels

export function bindHover(canvas) {
  const tip = document.createElement('div');
  tip.className = 'chart-tip';
  tip.dataset.testid = `${canvas.id}-tip`;
  tip.setAttribute('aria-hidden', 'true');
  tip.hidden = true;
  canvas.parentElement.style.position = 'relative';
  canvas.insertAdjacentElement('afterend', tip);
  canvas.addEventListener('mousemove', (e) => {
    const sx = canvas.width / canvas.clientWidth, sy = canvas.height / canvas.clientHeight;
    const x = e.offsetX * sx, y = e.offsetY * sy;
    let best = null, dist = REACH;
    for (const p of canvas.hoverPoints || []) {
      const d = Math.hypot(p.x - x, p.y - y);
      if (d < dist) { best = p; dist = d; }
    }
    tip.hidden = !best;
    if (!best) return;
    tip.textContent = best.text;
    // Beside the point, kept inside the panel (a tip past its edge would scroll a phone's page sideways).
    const room = canvas.parentElement.clientWidth - tip.offsetWidth;
    tip.style.left = `${Math.max(0, Math.min(room, canvas.offsetLeft + best.x / sx + 10))}px`;
    tip.style.top = `${canvas.offsetTop + best.y / sy - 30}px`;
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
}
