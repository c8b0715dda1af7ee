// The data root for node scripts and the page tests: what scripts/data-root.sh
// prints (the library's rule, src/data_root.rs, in shell), as an absolute path.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function dataRoot() {
  return path.resolve(ROOT, execFileSync(path.join(ROOT, 'scripts', 'data-root.sh'), { encoding: 'utf8' }).trim());
}

/** The exercise's PyTorch parity fixtures beside the data root, as fixtures_dir() finds them. */
export function fixturesDir() {
  return path.join(dataRoot(), '..', 'fixtures', 'pytorch-parity');
}
