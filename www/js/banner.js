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

// Whether the failure in view has been announced: a run's error is shown
// once (not again at every frame), and a new run or a restart forgets it.
let failureShown = false;
export const failure = {
  get shown() { return failureShown; },
  markShown() { failureShown = true; },
  forget() { failureShown = false; },
};

export function escapeHtml(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}
