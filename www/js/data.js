// CIFAR-10's six official files, as the page and the worker name them (the
// core's names, in core.json).
import CORE from './core.json' with { type: 'json' };

export const TRAIN_FILES = CORE.trainFiles;
export const TEST_FILE = CORE.testFile;
export const FILES = [...TRAIN_FILES, TEST_FILE];
/** One training batch and the test batch are enough to start a run: they download first. */
export const FIRST = [TRAIN_FILES[0], TEST_FILE];
/** Size of one official file, until the server says otherwise. */
export const FILE_BYTES = CORE.recordBytes * CORE.imagesPerFile;

/** The official cifar-10-binary.tar.gz is 170 MB: a bigger archive is refused unread. */
export const MAX_ARCHIVE_BYTES = 256e6;

export const isArchive = (name) => /\.(tar\.gz|tgz)$/i.test(name);

export function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
