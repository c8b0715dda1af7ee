// CIFAR-10's six official files, as the page and the worker name them.

export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const TEST_FILE = 'test_batch.bin';
export const FILES = [...TRAIN_FILES, TEST_FILE];
/** One training batch and the test batch are enough to start a run: they download first. */
export const FIRST = [TRAIN_FILES[0], TEST_FILE];
/** Size of one official file, until the server says otherwise. */
export const FILE_BYTES = 30730000;

export const isArchive = (name) => /\.(tar\.gz|tgz)$/i.test(name);

export function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
