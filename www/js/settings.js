// Every training setting: one table (settings.json) that the Rust core's
// validation and the command line's flags embed too. A row holds the
// setting's default, range, group, page input and flag, so the page's inputs,
// its URL parser and the engine refuse the same values with the same words,
// and adding a setting is one row plus the code that uses it.
import ROWS from './settings.json' with { type: 'json' };

/** The table's rows, keyed by setting (the wasm TrainConfig's camelCase names). */
export const SETTINGS = Object.freeze(Object.fromEntries(ROWS.map((r) => [r.key, Object.freeze(r)])));

/** Each setting's default: the core's `TrainConfig::default()` (a Rust test holds them equal). */
export const DEFAULTS = Object.freeze(Object.fromEntries(ROWS.map((r) => [r.key, r.default])));

const keysOf = (group) => Object.freeze(ROWS.filter((r) => r.group === group).map((r) => r.key));
/** The settings that define the network: changing them needs a new run. */
export const ARCHITECTURE_KEYS = keysOf('architecture');
/** The settings that say how the KL is weighted: changed mid-run, they apply from the next step. */
export const SCHEDULE_KEYS = keysOf('schedule');
/** The optimiser's and the data's settings. */
export const TRAINING_KEYS = keysOf('training');

/** Why `value` cannot be `key`'s value, in the core's words ("is out of range: …"), or null. */
export function problem(key, value) {
  const b = SETTINGS[key];
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
  return Object.keys(SETTINGS).map((k) => [k, problem(k, config[k])]).filter(([, p]) => p).map(([k, p]) => `${k}=${config[k]} ${p}`);
}

/** The number inputs take their limits from the table; sliders show their part of it. */
export function applyBounds(inputs) {
  for (const [key, el] of Object.entries(inputs)) {
    const b = SETTINGS[key];
    const range = el.type === 'range' && b.slider ? b.slider : b;
    el.min = range.min;
    el.max = range.max;
    if (range.step) el.step = range.step;
    else if (b.integer) el.step = 1;
  }
}
