// Teacher links: `?hide=presets,lab` hides parts of the page and
// `?lock=latentSize,seed` fixes settings at the link's values (as TensorFlow
// Playground's `<control>_hide`), so a class sees only what the lesson needs.
// The share link keeps both.

/** The parts a link can hide: each is an element with `data-part="<name>"`. */
export const PARTS = ['lesson', 'presets', 'model', 'beta', 'training', 'curves', 'latent', 'lab', 'grids', 'runs', 'results', 'data'];

/** `{hide, lock, problems}` from the page options; `settings`: the config's keys. */
export function parseTeacher(page, settings) {
  const list = (v) => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : []);
  const problems = [];
  const hide = list(page.hide).filter((p) => PARTS.includes(p) || !problems.push(`hide=${p} is not a part of the page (${PARTS.join(', ')})`));
  const lock = list(page.lock).filter((k) => settings.includes(k) || !problems.push(`lock=${k} is not a setting (${settings.join(', ')})`));
  return { hide, lock, problems };
}

/** Hides the named parts; says on the page what the link hid and locked. */
export function applyTeacher({ hide, lock }) {
  for (const el of document.querySelectorAll('[data-part]')) el.hidden = hide.includes(el.dataset.part);
  const note = document.getElementById('teacher-note');
  const said = [];
  if (lock.length) said.push(`locked: ${lock.join(', ')}`);
  if (hide.length) said.push(`hidden: ${hide.join(', ')}`);
  note.hidden = !said.length;
  note.textContent = said.length ? `Set by the teacher's link (${said.join('; ')}).` : '';
}

/** The locked settings `next` would change, as "key" names. */
export function lockedChanges(lock, current, next) {
  return lock.filter((k) => next[k] !== current[k]);
}
