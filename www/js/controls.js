// The settings form: shows a config, reports each edit as the one setting
// it changed. Each setting's control is its row's `input` in the settings
// table; a radio group, a select, a number or a slider reads and shows by its kind.
import { PRESETS, DEMO_PRESETS, ALL_PRESETS, latentFromSlider, sliderFromLatent, latentStep, exerciseValues } from './state.js';
import { SETTINGS, SCHEDULE_KEYS, applyBounds } from './settings.js';
import { latentWords, betaWords } from './alt-text.js';

const $ = (id) => document.getElementById(id);
const ROWS = Object.values(SETTINGS);
const control = (key) => document.querySelector(SETTINGS[key].input);
// The latent slider is a log-scale position (state.js maps it through the table).
const logSlider = (row) => row.slider?.scale === 'log';

/** A control's value as the setting's value: a choice's name or a number. */
function readOne(row) {
  if (row.choices && row.input.startsWith('input[')) return document.querySelector(`${row.input}:checked`)?.value || row.default;
  const raw = control(row.key).value;
  if (row.choices) return raw;
  return logSlider(row) ? latentFromSlider(Number(raw)) : Number(raw);
}

function showOne(row, value) {
  if (row.choices && row.input.startsWith('input[')) {
    document.querySelector(`${row.input}[value=${value}]`).checked = true;
  } else {
    control(row.key).value = logSlider(row) ? sliderFromLatent(value) : value;
  }
}

let locked = [];

/** Settings the page's link fixed: their inputs stay disabled, and presets that would change them too. */
export function lockSettings(keys) {
  locked = [...keys];
}

/** A slider's mark at `value`, named `label` where given. */
function mark(value, label) {
  const o = document.createElement('option');
  o.value = value;
  if (label != null) o.label = label;
  return o;
}

/** The sliders' marks and the latent slider's help: the exercise's values, from its table. */
function markExercise() {
  const latents = exerciseValues('latentSize');
  $('latent-marks').replaceChildren(...latents.map((l) => mark(sliderFromLatent(l), String(l))));
  const { min, max } = SETTINGS.latentSize.slider;
  $('latent-help').textContent = `Log scale, ${min} to ${max}; it snaps to the exercise's ${latents.slice(0, -1).join(', ')} and ${latents.at(-1)}.`;
  $('beta-marks').replaceChildren(...exerciseValues('targetBeta').map((b) => mark(b)));
}

/** A preset's settings are all in force. */
const inForce = (p, config) => Object.entries(p.config).every(([k, v]) => config[k] === v);

const DEMOS_HELP = 'Each shows one behaviour of a VAE; the latent code\'s panel says what happened.';

export function bindControls({ onChange, onPreset }) {
  applyBounds(Object.fromEntries(ROWS.filter((r) => !r.choices && !logSlider(r)).map((r) => [r.key, control(r.key)])));
  markExercise();
  for (const [list, box] of [[PRESETS, $('presets')], [DEMO_PRESETS, $('demos')]]) {
    for (const p of list) {
      const b = document.createElement('button');
      b.textContent = p.label;
      b.dataset.preset = p.id;
      b.setAttribute('data-testid', `preset-${p.id}`);
      b.addEventListener('click', () => onPreset(p));
      box.appendChild(b);
    }
  }
  for (const el of document.querySelectorAll('#controls input, #controls select')) {
    if (el.type === 'file') continue;
    const row = ROWS.find((r) => el.matches(r.input));
    // A slider that changes the model (the latent size) applies when let go:
    // every step of a drag would start a run. While it moves, it shows the value.
    const live = el.type === 'range' && row?.group !== 'architecture';
    // Only the edited setting: the others stay what the page holds, not what
    // their controls can show (the log slider holds 511 for a latent of 512).
    el.addEventListener(live ? 'input' : 'change', () => onChange({ [row.key]: readOne(row) }));
    if (el.type === 'range' && !live) {
      el.addEventListener('input', () => {
        $('latent-out').textContent = readOne(row);
        el.setAttribute('aria-valuetext', latentWords(readOne(row)));
      });
    }
  }
  // The latent slider's keys (the WAI-ARIA slider's): arrows a power of two, Page Up/Down two,
  // Home/End the ends. Each key is one deliberate step, so each applies (and starts a run).
  const latentKeys = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 2, PageDown: -2, Home: -Infinity, End: Infinity };
  $('latent').addEventListener('keydown', (e) => {
    if (!(e.key in latentKeys)) return;
    e.preventDefault();
    // The latent in force, not the slider's position (which holds 511 for 512).
    const now = shownLatent;
    const next = latentStep(now, latentKeys[e.key]);
    if (next === now) return;
    $('latent').value = sliderFromLatent(next);
    onChange({ latentSize: next });
  });
}

/** The latent size last shown: the one in force. */
let shownLatent = SETTINGS.latentSize.default;

export function showConfig(config) {
  shownLatent = config.latentSize;
  for (const row of ROWS) showOne(row, config[row.key]);
  $('latent-out').textContent = config.latentSize;
  $('beta-out').textContent = Number(config.targetBeta).toFixed(2);
  $('latent').setAttribute('aria-valuetext', latentWords(config.latentSize));
  $('beta').setAttribute('aria-valuetext', betaWords(config.targetBeta));
  const vae = config.lossMode === 'vae';
  for (const key of SCHEDULE_KEYS) control(key).disabled = !vae;
  // The capacity objective has no β: its γ and C take the slider's place.
  $('beta').disabled = !vae || config.betaMode === 'capacity';
  $('cyclical-params').hidden = config.betaMode !== 'cyclical';
  $('capacity-params').hidden = config.betaMode !== 'capacity';
  for (const key of locked) {
    for (const el of document.querySelectorAll(SETTINGS[key].input)) {
      el.disabled = true;
      el.title = 'Locked by the teacher\'s link';
    }
  }
  // What a demo shows, said under its group while its settings are in force.
  const demo = DEMO_PRESETS.find((p) => inForce(p, config));
  $('demo-shows').textContent = demo ? demo.shows : DEMOS_HELP;
  for (const b of document.querySelectorAll('button[data-preset]')) {
    const p = ALL_PRESETS.find((x) => x.id === b.dataset.preset);
    b.classList.toggle('active', inForce(p, config));
    b.disabled = locked.some((k) => k in p.config && p.config[k] !== config[k]);
  }
}

export function setButtons(state) {
  const running = state === 'training' || state === 'loading';
  $('train').disabled = running;
  $('pause').disabled = state !== 'training';
  $('resume').disabled = state !== 'paused';
}
