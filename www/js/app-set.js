// Which stored set of the page's files this page was served from (sw.js):
// its engine's worker names it in its URL, so that a worker started later
// (a restart) loads the same version of pkg/ as the page, even after a newer
// set has been downloaded. A newer set is announced; the next load uses it.

let set = '';

/** The set's name, asked of the service worker once ('' when none serves this page). */
export async function learnAppSet() {
  const sw = navigator.serviceWorker?.controller;
  if (!sw) return set;
  const channel = new MessageChannel();
  // A service worker of an earlier page version has no answer: the page goes on without a set after a while.
  const answer = new Promise((resolve) => {
    channel.port1.onmessage = (e) => resolve(typeof e.data === 'string' ? e.data : '');
    setTimeout(() => resolve(''), 3000);
  });
  sw.postMessage({ type: 'which-set' }, [channel.port2]);
  set = await answer;
  return set;
}

/** The engine worker's URL: the page's set named in it. */
export function workerUrl() {
  const url = new URL('./worker.js', import.meta.url);
  if (set) url.searchParams.set('set', set);
  return url;
}

let newer = '';
let checks = 0;
/** `{own, newer, checks}`: this page's set, a newer one stored since it loaded, and how many checks for one ended. */
export const appSets = () => ({ own: set, newer, checks });

/** Calls `onReady(name)` when the service worker has stored a newer set than this page's. */
export function onNewerSet(onReady) {
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if (e.data?.type !== 'vaelab-set-checked') return;
    checks += 1;
    if (e.data.added && e.data.set !== set) {
      newer = e.data.set;
      onReady(newer);
    }
  });
  navigator.serviceWorker?.startMessages();
}
