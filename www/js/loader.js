// Getting CIFAR-10 into the worker's dataset, once: from this browser's
// Cache Storage when an earlier visit stored it (no network request), else
// from the server (all missing files in parallel, the two a run needs first)
// or from files the user picked. Fetched files are stored for the next visit;
// picked ones when the user keeps the "store" box ticked. The dataset replaces
// a file loaded again, so nothing is ever counted twice.

import { FILES, FIRST, FILE_BYTES, MAX_ARCHIVE_BYTES, isArchive } from './data.js';

const CACHE = 'vaelab-cifar10-v1';
const message = (e) => (e && e.message ? e.message : String(e));

/** Where a picked file is stored: one key per official file name. */
const pickedKey = (name) => `${self.location.origin}/vaelab-stored/${name}`;

/** This browser's Cache Storage, or the reason there is none. */
export class Store {
  constructor() {
    this.cache = null;
    this.refused = null;
  }

  async open() {
    if (this.cache || this.refused) return this.cache;
    if (!self.caches) {
      this.refused = 'this browser offers the page no Cache Storage (a private window, or a page served over plain http from another machine)';
      return null;
    }
    try {
      this.cache = await caches.open(CACHE);
    } catch (e) {
      this.refused = message(e);
    }
    return this.cache;
  }

  /** The stored copy of `name` (under the server's URL, else as picked), or null. */
  async get(name, url) {
    const cache = await this.open();
    if (!cache) return null;
    for (const key of [url, pickedKey(name)]) {
      if (!key) continue;
      const hit = await cache.match(key);
      if (hit) return new Uint8Array(await hit.arrayBuffer());
    }
    return null;
  }

  /**
   * Store `bytes` as the one stored copy of `name` (a copy stored from another
   * folder, or picked, is dropped); false (with `refused` set) when the
   * browser says no (quota, private mode).
   */
  async put(name, url, bytes) {
    const cache = await this.open();
    if (!cache) return false;
    const key = url || pickedKey(name);
    try {
      await this.drop(name);
      await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
      return true;
    } catch (e) {
      this.refused = e && e.name === 'QuotaExceededError' ? "the browser's storage quota for this page is full" : message(e);
      return false;
    }
  }

  /** Delete every stored copy of `name`. */
  async drop(name) {
    const cache = await this.open();
    if (!cache) return;
    for (const req of await cache.keys()) {
      if (req.url.endsWith(`/${name}`)) await cache.delete(req);
    }
  }

  async forget() {
    this.cache = null;
    if (self.caches) await caches.delete(CACHE);
  }
}

/** Stream `url`, reporting bytes as they come; `{bytes}` or `{missing: reason}`. */
async function download(url, onBytes) {
  let res;
  try {
    res = await fetch(url, { cache: 'no-store' });
  } catch (e) {
    return { missing: message(e) };
  }
  if (!res.ok) return { missing: `${res.status} ${res.statusText}`.trim() };
  const total = Number(res.headers.get('content-length')) || FILE_BYTES;
  onBytes(0, total);
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    onBytes(got, Math.max(total, got));
  }
  const bytes = new Uint8Array(got);
  let o = 0;
  for (const c of chunks) { bytes.set(c, o); o += c.length; }
  return { bytes };
}

/**
 * Load the six files for a page whose data folder is `base` (absolute URL).
 * `add(name, bytes, {from, stored})` hands each to the dataset (false when
 * refused), `stored(name)` says it is now kept in this browser;
 * `progress({loaded, total, files})` follows the downloads as one bar.
 * Resolves to the names found nowhere, with reasons.
 */
export async function loadAll(store, base, { add, stored, progress }) {
  const url = (name) => new URL(name, base).href;
  const wanted = [];
  for (const name of FILES) {
    // A stored copy that cannot be read, or that the dataset refuses (the
    // refusal is shown), is dropped and downloaded again: it never blocks the rest.
    let kept = null;
    let unreadable = false;
    try {
      kept = await store.get(name, url(name));
    } catch {
      unreadable = true;
    }
    if (kept && (await add(name, kept, { from: 'storage', stored: true }))) continue;
    if (kept || unreadable) await store.drop(name).catch(() => {});
    wanted.push(name);
  }
  const sizes = new Map(wanted.map((n) => [n, [0, FILE_BYTES]]));
  let last = 0;
  const report = (force) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let loaded = 0;
    let total = 0;
    for (const [l, t] of sizes.values()) { loaded += l; total += t; }
    progress({ loaded, total, files: wanted.length });
  };
  const missing = {};
  const one = async (name) => {
    const r = await download(url(name), (l, t) => { sizes.set(name, [l, t]); report(false); });
    if (r.missing) {
      missing[name] = r.missing;
      sizes.delete(name);
      report(true);
      return;
    }
    const ok = await add(name, r.bytes, { from: 'server', stored: false });
    if (ok && (await store.put(name, url(name), r.bytes))) stored(name);
  };
  if (wanted.length) report(true);
  // The two files a run needs share the bandwidth first; then the rest together.
  await Promise.all(wanted.filter((n) => FIRST.includes(n)).map(one));
  await Promise.all(wanted.filter((n) => !FIRST.includes(n)).map(one));
  if (wanted.length) report(true);
  return missing;
}

/**
 * Files the user picked or dropped: `.bin` files by their official names, or
 * the official archive (its members). Resolves to the names it ignored.
 */
export async function loadPicked(store, files, keep, { add, stored, unpack, refused }) {
  const ignored = [];
  for (const f of files) {
    // Sizes first, from the file's entry: a file larger than the official
    // one is refused unread (gigabytes would abort the engine).
    const most = isArchive(f.name) ? MAX_ARCHIVE_BYTES : FILES.includes(f.name) ? FILE_BYTES : Infinity;
    if (f.size > most) {
      const bytes = (n) => `${n.toLocaleString('en')} bytes`;
      refused(f.name, `${f.name} is ${bytes(f.size)}, more than ${isArchive(f.name) ? 'the official archive' : 'a CIFAR-10 file'} can be (${bytes(most)}); not read`);
      continue;
    }
    if (isArchive(f.name)) {
      const members = unpack(f.name, new Uint8Array(await f.arrayBuffer()));
      if (!members) continue;
      for (const m of members) await addPicked(store, m.name, m.bytes, keep, add, stored);
    } else if (FILES.includes(f.name)) {
      await addPicked(store, f.name, new Uint8Array(await f.arrayBuffer()), keep, add, stored);
    } else {
      ignored.push(f.name);
    }
  }
  return ignored;
}

async function addPicked(store, name, bytes, keep, add, stored) {
  const ok = await add(name, bytes, { from: 'chosen', stored: false });
  if (ok && keep && (await store.put(name, null, bytes))) stored(name);
}
