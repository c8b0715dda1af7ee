// The Data panel: where each of CIFAR-10's six files came from, whether this
// browser keeps it for the next visit, one progress bar for the downloads, and
// what went wrong. It draws what the engine reported; it loads nothing.

import { FILES, mb } from './data.js';

const $ = (id) => document.getElementById(id);
const FROM = { storage: "this browser's storage", server: 'the server', chosen: 'a chosen file' };
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** "2 files from this browser's storage (61.5 MB); 4 downloaded from the server (122.9 MB)". */
export function describeSources(files) {
  const groups = new Map();
  for (const f of files.values()) {
    const g = groups.get(f.from) || { n: 0, bytes: 0 };
    g.n += 1;
    g.bytes += f.bytes;
    groups.set(f.from, g);
  }
  const verb = { storage: 'from', server: 'downloaded from', chosen: 'from' };
  return [...groups].map(([from, g]) => {
    const what = from === 'chosen' ? `${g.n} chosen file${g.n > 1 ? 's' : ''}` : `${g.n} file${g.n > 1 ? 's' : ''} ${verb[from]} ${FROM[from]}`;
    return `${what} (${mb(g.bytes)})`;
  }).join('; ');
}

export function renderData(engine, { notes = '', errors = [], limited = false, persisted = null }) {
  const files = engine ? engine.files : new Map();
  const train = engine ? engine.trainSize : 0;
  const test = engine ? engine.testSize : 0;
  const dl = engine && engine.download;
  const anyStored = [...files.values()].some((f) => f.stored);
  $('data-status').textContent = `Data: ${train.toLocaleString()} train · ${test.toLocaleString()} test${errors.length ? ' · ⚠ see Data panel' : ''}`;
  const bar = $('data-bar');
  if (dl && dl.total > 0) {
    bar.value = dl.loaded / dl.total;
    bar.hidden = false;
  } else {
    bar.value = files.size ? 1 : 0;
  }
  const downloading = dl && dl.files ? `<b>Downloading ${dl.files} file${dl.files > 1 ? 's' : ''}: ${mb(dl.loaded)} of ${mb(dl.total)}.</b> ` : '';
  const sources = files.size ? `${describeSources(files)}. ` : '';
  $('data-text').innerHTML = `${downloading}${train.toLocaleString()} training and ${test.toLocaleString()} test images loaded${limited ? ' (limited by the URL)' : ''}. ${sources}${notes}`
    + errors.map((e) => `<div class="error" data-testid="data-error">${esc(e)}</div>`).join('');

  $('data-files').innerHTML = FILES.map((name) => {
    const f = files.get(name);
    const cells = f
      ? [`${f.images.toLocaleString()} images`, FROM[f.from], f.stored ? '✓ stored in this browser' : 'not stored']
      : ['—', dl ? 'waiting…' : 'missing', ''];
    return `<tr data-testid="data-file" data-file="${name}" data-from="${f ? f.from : ''}" data-stored="${f && f.stored ? 1 : 0}"><td><code>${name}</code></td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  }).join('');

  const storage = engine ? engine.storage : { refused: null };
  const note = $('storage-note');
  if (storage.refused) {
    note.className = 'help error';
    note.textContent = `This browser did not let VAE Lab keep the data (${storage.refused}). Everything works, but the files are downloaded again on the next visit.`;
  } else if (anyStored) {
    note.className = 'help';
    note.textContent = `Kept in this browser's storage for the next visit and for offline use${persisted === true ? ' (persistent: the browser will not evict it)' : persisted === false ? ' (the browser may evict it when space runs short)' : ''}.`;
  } else {
    note.className = 'help';
    note.textContent = '';
  }
  $('forget-data').disabled = !anyStored;
}
