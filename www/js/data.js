// Getting CIFAR-10's binary files into the page: fetched from a folder next
// to the page (streamed, with progress), or picked / dropped by the user as
// .bin files or the official cifar-10-binary.tar.gz.

export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const TEST_FILE = 'test_batch.bin';
export const RECORD = 3073;
// Fetch order: one training batch and the test batch are enough to start.
const ORDER = [TRAIN_FILES[0], TEST_FILE, ...TRAIN_FILES.slice(1)];
const FILE_BYTES = 30730000;

async function fetchWithProgress(url, onBytes) {
  const res = await fetch(url);
  if (!res.ok) return { missing: true, status: res.status };
  const total = Number(res.headers.get('content-length')) || FILE_BYTES;
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    onBytes(got, total);
  }
  const bytes = new Uint8Array(got);
  let o = 0;
  for (const c of chunks) { bytes.set(c, o); o += c.length; }
  return { bytes };
}

/**
 * Fetch the files from `base` one after another, calling `onFile(name, bytes)`
 * as each arrives and `onProgress({file, index, count, loaded, total})` while
 * streaming. Resolves to the names that were not found.
 */
export async function fetchAll(base, { onFile, onProgress }) {
  const missing = [];
  const prefix = base.endsWith('/') ? base : `${base}/`;
  for (let i = 0; i < ORDER.length; i++) {
    const name = ORDER[i];
    let r;
    try {
      r = await fetchWithProgress(prefix + name, (loaded, total) =>
        onProgress({ file: name, index: i, count: ORDER.length, loaded, total }));
    } catch (e) {
      r = { missing: true, status: String(e.message || e) };
    }
    if (r.missing) { missing.push(name); continue; }
    await onFile(name, r.bytes);
  }
  return missing;
}

/** Sort user-chosen files into what the dataset takes; names outside CIFAR-10's are reported. */
export async function readChosen(fileList) {
  const bins = [];
  const archives = [];
  const ignored = [];
  for (const f of fileList) {
    const name = f.name;
    if (/\.(tar\.gz|tgz)$/i.test(name)) archives.push({ name, bytes: new Uint8Array(await f.arrayBuffer()) });
    else if (name === TEST_FILE || TRAIN_FILES.includes(name)) bins.push({ name, bytes: new Uint8Array(await f.arrayBuffer()) });
    else ignored.push(name);
  }
  // Training batches in their numbered order, test last.
  bins.sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));
  return { bins, archives, ignored };
}

export function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
