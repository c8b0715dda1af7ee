// The one settings object, and its round trip through the URL, so that a
// teacher's link opens the page with the same run. Field names are those of
// the wasm TrainConfig (camelCase), so the object goes to Rust unchanged.
import EXERCISE from './exercise.json' with { type: 'json' };
import DEMOS from './demos.json' with { type: 'json' };
import { SETTINGS, DEFAULTS, ARCHITECTURE_KEYS, problem } from './settings.js';

// The exercise's runs as the page's presets: a run whose latent (or β) the
// exercise leaves to the student's pick takes the exercise's own default pick.
export const PRESETS = EXERCISE.runs.map((r) => ({
  id: r.id, label: r.label,
  config: {
    ...r.config,
    ...(r.latent === 'picked' ? { latentSize: EXERCISE.picks.latentSize } : {}),
    ...(r.beta === 'picked' ? { targetBeta: EXERCISE.picks.targetBeta } : {}),
  },
}));

/** Runs beyond the exercise, each showing one behaviour (demos.json): presets of their own group, with what they show. */
export const DEMO_PRESETS = DEMOS.runs.map((r) => ({ id: r.id, label: r.label, config: r.config, shows: r.shows, demo: true }));

/** Every preset a button or a link (`?preset=`) can name. */
export const ALL_PRESETS = [...PRESETS, ...DEMO_PRESETS];

/**
 * The values the exercise's runs give `key` (their latents 16, 128, 1024; their βs 0.8, 1, 1.2),
 * from the runs of `sections` only where given.
 */
export function exerciseValues(key, sections = null) {
  const runs = EXERCISE.runs.filter((r) => !sections || sections.includes(r.section));
  return [...new Set(runs.map((r) => r.config[key]).filter((v) => v != null))].sort((a, b) => a - b);
}

// Numeric settings are the table's rows without a list of choices.
const NUMERIC = Object.keys(SETTINGS).filter((k) => !SETTINGS[k].choices);
// Page options that are not part of the training config.
// images / tests: use only the first N training / test images (quick classroom demos, tests).
// model: a safetensors URL (e.g. a teacher's trained checkpoint) opened as a paused run.
// hide / lock: a teacher's link hides parts of the page and fixes settings (teacher.js).
// lesson, lessonStep, lessonLatent, lessonBeta: the lesson's variant, step and decisions (lesson.js);
// classMinutes: the class period the lesson's time is weighed against (lesson-time.js).
export const PAGE_KEYS = ['autostart', 'data', 'backend', 'images', 'tests', 'preset', 'model', 'hide', 'lock', 'lesson', 'lessonStep', 'lessonLatent', 'lessonBeta', 'classMinutes'];

/** How many images a link may ask for: CIFAR-10 has 50,000 training images. */
const MAX_IMAGES = 50000;
const count = (raw) => (/^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= MAX_IMAGES ? null : `use a whole number from 1 to ${MAX_IMAGES}`);
/** Page options refused by name (they would hang or empty the page), with what to use instead. */
const PAGE_CHECKS = {
  images: count,
  tests: count,
  data: (raw) => {
    try {
      const url = new URL(raw, 'http://page.example/www/');
      return ['http:', 'https:'].includes(url.protocol) && url.host ? null : 'use a folder next to the page or an http(s) address';
    } catch {
      return 'not an address: use a folder next to the page or an http(s) address';
    }
  },
};

// Latent slider: positions 0..1000 map to the table's slider range (16..1024)
// on a log scale; the exercise's values are "stops" the slider snaps to when near.
const { min: LAT_LO, max: LAT_HI } = SETTINGS.latentSize.slider;
const LOG_LO = Math.log(LAT_LO), LOG_HI = Math.log(LAT_HI);
export function latentFromSlider(pos) {
  const v = Math.exp(LOG_LO + (LOG_HI - LOG_LO) * (pos / 1000));
  for (const stop of exerciseValues('latentSize')) if (Math.abs(Math.log(v / stop)) < 0.08) return stop;
  return Math.max(LAT_LO, Math.min(LAT_HI, Math.round(v)));
}
export function sliderFromLatent(latent) {
  const l = Math.max(LAT_LO, Math.min(LAT_HI, latent));
  return Math.round((1000 * (Math.log(l) - LOG_LO)) / (LOG_HI - LOG_LO));
}

/**
 * Where a key on the latent slider lands: `steps` powers of two above (or below) `latent`, within
 * the slider's range. The slider's own step (1/1000 of the log range) snapped back to the
 * exercise's stops, so an arrow key never left 16, 128 or 1024.
 */
export function latentStep(latent, steps) {
  const here = Math.log2(latent);
  const k = steps > 0 ? Math.floor(here) + steps : Math.ceil(here) + steps;
  return Math.max(LAT_LO, Math.min(LAT_HI, 2 ** k));
}

/** Settings and page options from a query string; unknown, malformed or
 * out-of-range values are reported (with the table's range) and left at their defaults. */
export function fromQuery(search) {
  const params = new URLSearchParams(search);
  const config = { ...DEFAULTS };
  const page = {};
  const problems = [];
  const preset = params.get('preset');
  if (preset) {
    const p = ALL_PRESETS.find((x) => x.id === preset);
    if (p) Object.assign(config, p.config);
    else problems.push(`unknown preset "${preset}"`);
  }
  for (const [key, raw] of params) {
    if (key in DEFAULTS) {
      const value = NUMERIC.includes(key) ? Number(raw) : raw;
      const why = raw === '' || (NUMERIC.includes(key) && !Number.isFinite(value)) ? 'is not a number' : problem(key, value);
      // A refused value leaves the default (or the preset's value) in place.
      if (why) problems.push(`${key}=${raw} ${why}`);
      else config[key] = value;
    } else if (PAGE_KEYS.includes(key)) {
      const why = PAGE_CHECKS[key]?.(raw);
      if (why) problems.push(`${key}=${raw}: ${why}`);
      else page[key] = raw;
    } else {
      problems.push(`unknown URL setting "${key}"`);
    }
  }
  return { config, page, problems };
}

/** Query string for a config (only values that differ from the defaults) and page options. */
export function toQuery(config, page = {}) {
  const params = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    if (config[key] !== DEFAULTS[key]) params.set(key, String(config[key]));
  }
  for (const key of PAGE_KEYS) {
    if (key !== 'autostart' && key !== 'preset' && page[key] != null) params.set(key, page[key]);
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export function describeSchedule(c) {
  const d = { ...DEFAULTS, ...c };
  const sched = {
    linear: `β 0→${d.targetBeta} linear`,
    cyclical: `β 0→${d.targetBeta} cyclical ×${d.betaCycles} (ramp ${d.betaRampFraction})`,
    capacity: `capacity C 0→${d.capacityMax} nats, γ ${d.capacityGamma}`,
  }[d.betaMode] || `β ${d.targetBeta}`;
  return d.freeBits > 0 ? `${sched} · free bits ${d.freeBits}` : sched;
}

export function describe(config) {
  if (config.lossMode === 'ae') return `AE · latent ${config.latentSize}`;
  return `VAE · latent ${config.latentSize} · ${describeSchedule(config)}`;
}

/** Settings that define the network: changing them needs a new run. */
export function sameArchitecture(a, b) {
  return ARCHITECTURE_KEYS.every((k) => a[k] === b[k]);
}
