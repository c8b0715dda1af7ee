// Trained models ready to open: `www/models/manifest.json`, written by
// scripts/pretrain.sh beside the models it trained. The page lists them and
// opens one as a paused run (as `?model=<url>` does). No manifest: nothing
// listed; a malformed one: said plainly, and the page works on without it.
import { describe } from './state.js';
import { DEFAULTS, configProblems } from './settings.js';

const $ = (id) => document.getElementById(id);

/** `{models, problems}` from a manifest's text. */
export function parseManifest(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { models: [], problems: [`models/manifest.json is not JSON (${e.message})`] };
  }
  if (!data || !Array.isArray(data.models)) return { models: [], problems: ['models/manifest.json has no "models" list'] };
  const models = [];
  const problems = [];
  data.models.forEach((m, i) => {
    const file = m && typeof m.file === 'string' ? m.file : '';
    // A plain file name beside the manifest: nothing that climbs out of models/.
    if (!/^[\w.-]+\.safetensors$/.test(file) || file.startsWith('.')) {
      problems.push(`model ${i + 1} has no usable "file" (a .safetensors name beside the manifest)`);
      return;
    }
    const name = String(m.name || file);
    // Settings the table refuses are said, and the model is listed without
    // them (opening it reads the architecture from the file itself).
    let config = m.config && typeof m.config === 'object' && !Array.isArray(m.config) ? m.config : {};
    const wrong = configProblems({ ...DEFAULTS, ...config });
    if (wrong.length) {
      problems.push(`model ${i + 1} (${name}): its "config" is not used: ${wrong.join('; ')}`);
      config = {};
    }
    models.push({ name, file, config, epochs: m.epochs, test: m.test || null, trainImages: m.trainImages });
  });
  return { models, problems };
}

/** Fetches the manifest under `base` (the page's models/ folder); resolves to `{models, problems}`. */
export async function loadManifest(base) {
  let res;
  try {
    res = await fetch(new URL('manifest.json', base));
  } catch {
    return { models: [], problems: [] };
  }
  if (res.status === 404) return { models: [], problems: [] };
  if (!res.ok) return { models: [], problems: [`models/manifest.json: the server answered ${res.status}`] };
  return parseManifest(await res.text());
}

/** "test recon 123.4, KL 56.7" (no KL for an AE): how a model's test losses read everywhere it is listed. */
export function lossesText(lossMode, t) {
  const kl = lossMode === 'vae' ? `, KL ${Number(t.kl).toFixed(1)}` : '';
  return `test recon ${Number(t.recon).toFixed(1)}${kl}`;
}

/** Lists the models; `onOpen(url, name)` opens one. */
export function renderModels({ models, problems }, base, onOpen) {
  const panel = $('models-panel');
  panel.hidden = !models.length && !problems.length;
  const list = $('models');
  list.replaceChildren(...models.map((m) => {
    const li = document.createElement('li');
    const c = m.config;
    const what = c.lossMode ? describe({ ...DEFAULTS, ...c }) : '';
    const score = m.test ? ` · ${lossesText(c.lossMode, m.test)}` : '';
    const trained = m.epochs ? ` · ${m.epochs} epochs${m.trainImages ? ` on ${m.trainImages} images` : ''}` : '';
    li.textContent = `${m.name} — ${what}${trained}${score} `;
    const b = document.createElement('button');
    b.className = 'small';
    b.textContent = 'Open';
    b.setAttribute('data-testid', `open-model-${m.name}`);
    b.addEventListener('click', () => onOpen(new URL(m.file, base).href, m.name));
    li.appendChild(b);
    return li;
  }));
  $('models-problems').textContent = problems.join('; ');
  $('models-problems').hidden = !problems.length;
}
