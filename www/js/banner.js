// The banner over the views: one message at a time, with its buttons.

const $ = (id) => document.getElementById(id);

/** Shows `html` with `actions` ([label, onClick, testid]); `info` for news that is not a failure. */
export function banner(html, { info = false, actions = [] } = {}) {
  const b = $('banner');
  b.hidden = false;
  b.className = info ? 'banner info' : 'banner';
  b.innerHTML = html;
  for (const [label, fn, testid] of actions) {
    const btn = document.createElement('button');
    btn.textContent = label;
    if (testid) btn.setAttribute('data-testid', testid);
    btn.addEventListener('click', fn);
    b.appendChild(btn);
  }
}
export function hideBanner() { $('banner').hidden = true; }

export function escapeHtml(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}
