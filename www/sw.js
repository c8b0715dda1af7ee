// Offline, and never a page of two versions. The page's files and both
// engine packages (pkg/ for WebGPU, pkg-cpu/ for the CPU) are kept as whole
// sets, each named by a hash of all its files: a set is stored
// only once every file of it has downloaded, and a page is served from one
// set from its first file to its last, its engine's worker included (the
// worker names its page's set in its URL). A visit serves the newest whole
// set and downloads the files again beside it; when they differ, the new set
// is stored and the pages are told it is ready (the next load uses it; every
// check is reported to the page that asked and to the other open ones). A
// set no open page uses is deleted. With no whole set yet (a first visit),
// the network answers. CIFAR-10 has its own store (js/loader.js);
// data and models pass by.

const PREFIX = 'vaelab-app-';
/** Which set each open page was served from: kept in storage, as this worker may be stopped between requests. */
const PINS = 'vaelab-pins';
/** The entry a set's cache gets last: without it the set is not whole (a download cut short) and is deleted. */
const WHOLE = '/.vaelab-whole';
/** Everything the page and its worker load (tests check this list against www/js/). */
const APP = [
  './', 'index.html', 'style.css',
  'js/alt-text.js', 'js/app-set.js', 'js/app.js', 'js/axes.js', 'js/banner.js', 'js/chart-hover.js', 'js/chart-tables.js', 'js/chart.js', 'js/controls.js', 'js/core.json', 'js/curves.js', 'js/data-panel.js', 'js/demos.json',
  'js/data.js', 'js/dataview.js', 'js/engine.js', 'js/exercise.json', 'js/grids.js', 'js/histograms.js', 'js/kept-runs.js', 'js/lab.js',
  'js/lab-bound.js', 'js/latent.js', 'js/lesson-hosted.js', 'js/lesson-time.js', 'js/lesson.js', 'js/lifecycle.js', 'js/loader.js',
  'js/main.js', 'js/metrics-export.js', 'js/model-files.js', 'js/models.js', 'js/palette.js', 'js/progress.js', 'js/protocol.js', 'js/rdplane.js', 'js/render.js',
  'js/results.js', 'js/run-store.js', 'js/runs.js', 'js/settings-flow.js', 'js/settings.js', 'js/settings.json', 'js/state.js',
  'js/status.js', 'js/teacher.js', 'js/worker-data.js', 'js/worker-queue.js', 'js/worker-run.js', 'js/worker-wasm.js', 'js/worker.js',
  '../pkg/vaelab.js', '../pkg/vaelab_bg.wasm', '../pkg-cpu/vaelab.js', '../pkg-cpu/vaelab_bg.wasm',
];
const PATHS = APP.map((p) => new URL(p, self.registration.scope).pathname);
const ASSETS = new Set(PATHS);

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Every file from the network (past the HTTP cache), named by their hash; null when any fails. */
async function download() {
  try {
    const files = await Promise.all(PATHS.map(async (path) => {
      const res = await fetch(path, { cache: 'no-cache' });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      const body = await res.arrayBuffer();
      return { path, type: res.headers.get('content-type'), body, hash: hex(await crypto.subtle.digest('SHA-256', body)) };
    }));
    const all = new TextEncoder().encode(files.map((f) => `${f.path} ${f.hash}`).join('\n'));
    return { name: hex(await crypto.subtle.digest('SHA-256', all)).slice(0, 16), files };
  } catch {
    return null;
  }
}

/** The whole sets stored, newest first. */
async function wholeSets() {
  const sets = [];
  for (const key of await caches.keys()) {
    if (!key.startsWith(PREFIX)) continue;
    // caches.match with a cache name reads without opening: opening a set that a
    // prune just deleted would bring it back, empty, until the next visit.
    const mark = await caches.match(WHOLE, { cacheName: key });
    if (mark) sets.push({ name: key.slice(PREFIX.length), at: Number(await mark.text()) });
  }
  return sets.sort((a, b) => b.at - a.at).map((s) => s.name);
}

/** The sets being stored now (by another page's visit): a prune leaves them, as they are not whole yet. */
const writing = new Set();

/**
 * Each visit's check for a newer set, by the page it loads (its resultingClientId), until that page
 * has heard how it ended. The page asks once it runs: a message posted when the check ends could
 * reach no one, as a page still loading is not yet a client that matchAll lists.
 */
const visits = new Map();

/** Download the files and keep them as a set when they are new; true when a new set was stored. */
async function update() {
  const got = await download();
  if (!got) return false;
  const known = await wholeSets();
  if (known[0] === got.name) return false;
  writing.add(got.name);
  try {
    const cache = await caches.open(PREFIX + got.name);
    for (const f of got.files) {
      await cache.put(f.path, new Response(f.body, { headers: f.type ? { 'content-type': f.type } : {} }));
    }
    await cache.put(WHOLE, new Response(String(Date.now())));
  } finally {
    writing.delete(got.name);
  }
  return true;
}

async function pin(clientId, set) {
  if (clientId && set) await (await caches.open(PINS)).put(`/pin/${clientId}`, new Response(set));
}

async function pinned(clientId) {
  const hit = clientId && await (await caches.open(PINS)).match(`/pin/${clientId}`);
  return hit ? hit.text() : null;
}

/** Drop the sets no open or loading page uses (the newest is kept) and the pins of closed pages. */
async function prune() {
  const [newest, ...older] = await wholeSets();
  const pins = await caches.open(PINS);
  const open = new Set((await self.clients.matchAll({ type: 'all', includeUncontrolled: true })).map((c) => c.id));
  const used = new Set([newest, ...writing]);
  for (const req of await pins.keys()) {
    const id = new URL(req.url).pathname.slice('/pin/'.length);
    // A page still loading is no client yet: its visit names it.
    if (open.has(id) || visits.has(id)) used.add(await (await pins.match(req)).text());
    else await pins.delete(req);
  }
  for (const key of await caches.keys()) {
    if (key.startsWith(PREFIX) && !used.has(key.slice(PREFIX.length))) await caches.delete(key);
  }
  return older;
}

/** The set a request is served from: a page's own, its worker's page's (named in the worker's URL), else the newest. */
async function setFor(e) {
  const sets = await wholeSets();
  if (e.request.mode === 'navigate') return sets[0];
  const client = e.clientId ? await self.clients.get(e.clientId) : null;
  const named = client && new URL(client.url).searchParams.get('set');
  if (named && sets.includes(named)) return named;
  const own = client && await pinned(client.id);
  return own && sets.includes(own) ? own : sets[0];
}

/** Check for a newer version beside a page's load; the other open pages are told when it ends. */
function check(pageId) {
  const done = update().catch(() => false).then(prune).catch(() => []).then(async () => {
    const [newest] = await wholeSets();
    for (const c of await self.clients.matchAll({ type: 'window' })) {
      if (c.id !== pageId) c.postMessage({ type: 'vaelab-set-checked', set: newest || '' });
    }
  });
  visits.set(pageId, done);
  return done;
}

async function serve(e, path) {
  const set = await setFor(e);
  if (e.request.mode === 'navigate') {
    await pin(e.resultingClientId, set);
    e.waitUntil(check(e.resultingClientId));
  }
  const hit = set && await caches.match(path, { cacheName: PREFIX + set });
  return hit || fetch(e.request);
}

self.addEventListener('install', (e) => e.waitUntil(update().then(() => self.skipWaiting())));

self.addEventListener('activate', (e) => e.waitUntil(prune().then(() => self.clients.claim())));

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || !ASSETS.has(url.pathname)) return;
  e.respondWith(serve(e, url.pathname));
});

// A page asks which set it was served from, to name it in its engine worker's URL;
// then for the end of its visit's check (at once when there is none: this worker was stopped since).
self.addEventListener('message', (e) => {
  const port = e.ports[0];
  const id = e.source?.id;
  if (!port) return;
  if (e.data?.type === 'which-set') {
    e.waitUntil(pinned(id).then(async (set) => port.postMessage(set || (await wholeSets())[0] || '')));
  } else if (e.data?.type === 'visit-checked') {
    // By now the page runs and the one it replaced (a reload) has closed: a prune drops that one's set.
    const checked = visits.get(id) || Promise.resolve();
    e.waitUntil(checked.then(prune).catch(() => []).then(wholeSets).then(([newest]) => {
      visits.delete(id);
      port.postMessage({ set: newest || '' });
    }));
  }
});
