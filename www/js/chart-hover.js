// A chart's exact values under the pointer, or point by point from the
// keyboard: the charts list the points they drew (`canvas.hoverPoints`,
// canvas pixels). The pointer names the nearest within reach in a tip beside
// it; a focused chart steps through its points, by epoch, with the arrow keys
// (Home and End: the first and the last). The tip is a live region: a screen
// reader reads each point it names. The same numbers are in each chart's
// table (chart-tables.js).

const REACH = 14; // canvas pixels
const MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity, End: Infinity };

/** The points in reading order: left to right, top to bottom at one x. */
const ordered = (canvas) => [...(canvas.hoverPoints || [])].sort((a, b) => a.x - b.x || a.y - b.y);

export function bindHover(canvas) {
  const tip = document.createElement('div');
  tip.className = 'chart-tip';
  tip.dataset.testid = `${canvas.id}-tip`;
  tip.hidden = true;
  // Read out as it changes (a region live from the start: one made live at the change is often missed).
  tip.setAttribute('aria-live', 'polite');
  canvas.parentElement.style.position = 'relative';
  canvas.insertAdjacentElement('afterend', tip);
  canvas.tabIndex = 0;
  canvas.setAttribute('aria-keyshortcuts', 'ArrowLeft ArrowRight Home End');
  const show = (p) => {
    const sx = canvas.width / canvas.clientWidth, sy = canvas.height / canvas.clientHeight;
    tip.hidden = false;
    tip.textContent = p.text;
    // Beside the point, kept inside the panel (a tip past its edge would scroll a phone's page sideways).
    const room = canvas.parentElement.clientWidth - tip.offsetWidth;
    tip.style.left = `${Math.max(0, Math.min(room, canvas.offsetLeft + p.x / sx + 10))}px`;
    tip.style.top = `${canvas.offsetTop + p.y / sy - 30}px`;
  };
  canvas.addEventListener('mousemove', (e) => {
    const sx = canvas.width / canvas.clientWidth, sy = canvas.height / canvas.clientHeight;
    const x = e.offsetX * sx, y = e.offsetY * sy;
    let best = null, dist = REACH;
    for (const p of canvas.hoverPoints || []) {
      const d = Math.hypot(p.x - x, p.y - y);
      if (d < dist) { best = p; dist = d; }
    }
    if (best) show(best);
    else tip.hidden = true;
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  // Where the keyboard is, by the point's text: the points are drawn anew each frame.
  let at = null;
  canvas.addEventListener('keydown', (e) => {
    const points = ordered(canvas);
    if (!(e.key in MOVES) || !points.length) return;
    e.preventDefault();
    const move = MOVES[e.key];
    const i = points.findIndex((p) => p.text === at);
    // From no point yet, a step lands on the first (forwards) or the last; Home and End clamp to them.
    const from = i >= 0 ? i : move > 0 ? -1 : points.length;
    const next = Math.max(0, Math.min(points.length - 1, from + move));
    at = points[next].text;
    show(points[next]);
  });
  canvas.addEventListener('blur', () => { tip.hidden = true; });
}
