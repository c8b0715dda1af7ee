// Offline: a page visited once opens again without a network. The page's
// files and the wasm package are fetched from the network when it answers
// (so an updated page is seen at once) and kept here; offline they come from
// here. CIFAR-10 has its own store (js/loader.js); data and models pass by.

const CACHE = 'vaelab-app-v1';
/** Everything the page and its worker load (tests check this list against www/js/). */
const APP = [
  './', 'index.html', 'style.css',
  'js/app.js', 'js/axes.js', 'js/banner.js', 'js/chart.js', 'js/controls.js', 'js/core.json', 'js/curves.js', 'js/data-panel.js',
  'js/data.js', 'js/dataview.js', 'js/engine.js', 'js/exercise.json', 'js/grids.js', 'js/histograms.js', 'js/lab.js',
  'js/latent.js', 'js/lesson-hosted.js', 'js/lesson-time.js', 'js/lesson.js', 'js/lifecycle.js', 'js/loader.js',
  'js/main.js', 'js/model-files.js', 'js/models.js', 'js/progress.js', 'js/rdplane.js', 'js/render.js',
  'js/results.js', 'js/runs.js', 'js/settings-flow.js', 'js/settings.js', 'js/settings.json', 'js/state.js',
  'js/status.js', 'js/teacher.js', 'js/worker.js',
  '../pkg/vaelab.js', '../pkg/vaelab_bg.wasm',
];
const ASSETS = new Set(APP.map((p) => new URL(p, self.registration.scope).pathname));

self.addEventListener('install', (e) => {
  // A file that cannot be fetched (pkg/ not built) leaves the rest cached.
  e.waitUntil(caches.open(CACHE).then((c) => Promise.all(APP.map((p) => c.add(p).catch(() => null)))).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || !ASSETS.has(url.pathname)) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(e.request);
      if (res.ok) await cache.put(url.pathname, res.clone());
      return res;
    } catch (err) {
      const kept = await cache.match(url.pathname);
      if (kept) return kept;
      throw err;
    }
  })());
});
