// The settings form: shows a config, reports edits as a new config.
import { PRESETS, latentFromSlider, sliderFromLatent } from './state.js';
import { applyBounds } from './bounds.js';

const $ = (id) => document.getElementById(id);

/** The inputs of each setting (a teacher's link can lock any of them). */
const INPUTS = {
  lossMode: 'input[name=lossMode]', latentSize: '#latent', targetBeta: '#beta', betaMode: '#schedule',
  betaCycles: '#cycles', betaRampFraction: '#ramp', capacityGamma: '#gamma', capacityMax: '#cmax', freeBits: '#freebits',
  numEpochs: '#epochs', batchSize: '#batch', lr: '#lr', seed: '#seed',
};
let locked = [];

/** Settings the page's link fixed: their inputs stay disabled, and presets that would change them too. */
export function lockSettings(keys) {
  locked = [...keys];
}

export function bindControls({ onChange, onPreset }) {
  // The latent slider is a log-scale position (state.js maps it through the table).
  applyBounds({
    targetBeta: $('beta'), numEpochs: $('epochs'), batchSize: $('batch'), lr: $('lr'), seed: $('seed'),
    betaCycles: $('cycles'), capacityGamma: $('gamma'), capacityMax: $('cmax'), freeBits: $('freebits'),
  });
  // R's range is (0, 1]: the input allows its smallest step, the table refuses 0 with its message.
  $('ramp').min = 0;
  $('ramp').max = 1;
  const presets = $('presets');
  for (const p of PRESETS) {
    const b = document.createElement('button');
    b.textContent = p.label;
    b.dataset.preset = p.id;
    b.setAttribute('data-testid', `preset-${p.id}`);
    b.addEventListener('click', () => onPreset(p));
    presets.appendChild(b);
  }
  const read = () => ({
    lossMode: document.querySelector('input[name=lossMode]:checked')?.value || 'ae',
    latentSize: latentFromSlider(Number($('latent').value)),
    targetBeta: Number($('beta').value),
    betaMode: $('schedule').value,
    betaCycles: Number($('cycles').value),
    betaRampFraction: Number($('ramp').value),
    capacityGamma: Number($('gamma').value),
    capacityMax: Number($('cmax').value),
    freeBits: Number($('freebits').value),
    numEpochs: Number($('epochs').value),
    batchSize: Number($('batch').value),
    lr: Number($('lr').value),
    seed: Number($('seed').value),
  });
  for (const el of document.querySelectorAll('#controls input, #controls select')) {
    if (el.type === 'file') continue;
    el.addEventListener(el.type === 'range' ? 'input' : 'change', () => onChange(read(), el));
  }
}

export function showConfig(config) {
  document.querySelector(`input[name=lossMode][value=${config.lossMode}]`).checked = true;
  $('latent').value = sliderFromLatent(config.latentSize);
  $('latent-out').textContent = config.latentSize;
  $('beta').value = config.targetBeta;
  $('beta-out').textContent = Number(config.targetBeta).toFixed(2);
  $('schedule').value = config.betaMode;
  $('cycles').value = config.betaCycles;
  $('ramp').value = config.betaRampFraction;
  $('gamma').value = config.capacityGamma;
  $('cmax').value = config.capacityMax;
  $('freebits').value = config.freeBits;
  $('epochs').value = config.numEpochs;
  $('batch').value = config.batchSize;
  $('lr').value = config.lr;
  $('seed').value = config.seed;
  const vae = config.lossMode === 'vae';
  for (const id of ['schedule', 'cycles', 'ramp', 'gamma', 'cmax', 'freebits']) $(id).disabled = !vae;
  // The capacity objective has no β: its γ and C take the slider's place.
  $('beta').disabled = !vae || config.betaMode === 'capacity';
  $('cyclical-params').hidden = config.betaMode !== 'cyclical';
  $('capacity-params').hidden = config.betaMode !== 'capacity';
  for (const key of locked) {
    for (const el of document.querySelectorAll(INPUTS[key])) {
      el.disabled = true;
      el.title = 'Locked by the teacher\'s link';
    }
  }
  for (const b of document.querySelectorAll('#presets button')) {
    const p = PRESETS.find((x) => x.id === b.dataset.preset);
    b.classList.toggle('active', Object.entries(p.config).every(([k, v]) => config[k] === v));
    b.disabled = locked.some((k) => k in p.config && p.config[k] !== config[k]);
  }
}

export function setButtons(state) {
  const running = state === 'training' || state === 'loading';
  $('train').disabled = running;
  $('pause').disabled = state !== 'training';
  $('resume').disabled = state !== 'paused';
}
