// The range of every setting: one table (bounds.json) that the Rust core's
// validation embeds too, so the page's inputs, its URL parser and the engine
// refuse the same values with the same words.
import BOUNDS from './bounds.json' with { type: 'json' };

export { BOUNDS };

/** Why `value` cannot be `key`'s value, in the core's words ("is out of range: …"), or null. */
export function problem(key, value) {
  const b = BOUNDS[key];
  if (!b) return `unknown setting "${key}"`;
  if (b.choices) return b.choices.includes(value) ? null : `is not one of ${b.choices.join(', ')}`;
  const n = Number(value);
  const ok = Number.isFinite(n) && (!b.integer || Number.isInteger(n)) && (b.exclusiveMin ? n > b.min : n >= b.min) && n <= b.max;
  if (ok) return null;
  const hint = b.hint ? ` (${b.hint})` : '';
  return `is out of range: use ${b.integer ? 'a whole number' : 'a number'} from ${b.exclusiveMin ? 'above ' : ''}${b.min} to ${b.max}${hint}`;
}

/** Every setting of `config` that the table refuses, as "key=value why". */
export function configProblems(config) {
  return Object.keys(BOUNDS).map((k) => [k, problem(k, config[k])]).filter(([, p]) => p).map(([k, p]) => `${k}=${config[k]} ${p}`);
}

/** The number inputs take their limits from the table; sliders show their part of it. */
export function applyBounds(inputs) {
  for (const [key, el] of Object.entries(inputs)) {
    const b = BOUNDS[key];
    const range = el.type === 'range' && b.slider ? b.slider : b;
    el.min = range.min;
    el.max = range.max;
    if (range.step) el.step = range.step;
    else if (b.integer) el.step = 1;
  }
}
