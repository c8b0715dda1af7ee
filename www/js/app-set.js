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
  if (set) askVisitChecked(sw);
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
let onReady = () => {};
/** `{own, newer, checks}`: this page's set, a newer one stored since it loaded, and how many checks for one ended. */
export const appSets = () => ({ own: set, newer, checks });

/** A check ended, with `newest` the newest whole set: a set other than this page's is newer. */
function checked(newest) {
  checks += 1;
  if (newest && set && newest !== set && newest !== newer) {
    newer = newest;
    onReady(newer);
  }
}

/**
 * Calls `onReady(name)` when the service worker has stored a newer set than this page's: the check
 * of this page's own visit (asked for by `learnAppSet`) or of another page's later one.
 */
export function onNewerSet(ready) {
  onReady = ready;
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if (e.data?.type === 'vaelab-set-checked') checked(e.data.set);
  });
  navigator.serviceWorker?.startMessages();
}

/** The end of this visit's check, asked of the service worker that served the page. */
function askVisitChecked(sw) {
  const channel = new MessageChannel();
  channel.port1.onmessage = (e) => checked(e.data?.set);
  sw.postMessage({ type: 'visit-checked' }, [channel.port2]);
}
