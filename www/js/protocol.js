// The engine's protocol, written once: every command the page sends the
// worker (engine.js → worker.js) and every message the worker sends back,
// with their fields. Both sides import it: the worker refuses a command not
// named here and the page ignores a message not named here, and a test
// (tests-e2e/protocol.test.mjs) holds each side's code to these lists.
//
// Runs are numbered by the page (`run`); a message about a run names it, and
// the page folds it into that run's state through Run.to (engine.js), the
// one place a run's state changes.

/**
 * @typedef {{cmd: 'init', backend: 'webgpu' | 'cpu', limits?: {images?: number, tests?: number}}} InitCommand
 * @typedef {{cmd: 'load', base: string}} LoadCommand  the six files of a data folder (stored, else downloaded)
 * @typedef {{cmd: 'files', files: File[], keep: boolean}} FilesCommand  files the user chose or dropped
 * @typedef {{cmd: 'limits', images: number | null, tests: number | null}} LimitsCommand
 * @typedef {{cmd: 'forget'}} ForgetCommand  delete the stored files
 * @typedef {{cmd: 'start', run: number, config: object, backend: string, model?: Uint8Array | null,
 *   optimizer?: Uint8Array | null, reopen?: boolean, paused?: boolean}} StartCommand
 *   a new run, an opened model file, or a run going on from its snapshot
 * @typedef {{cmd: 'pause'} | {cmd: 'resume'} | {cmd: 'reset'}} RunCommand
 * @typedef {{cmd: 'setSchedule', config: object}} SetScheduleCommand
 * @typedef {{cmd: 'setEpochs', n: number}} SetEpochsCommand
 * @typedef {{cmd: 'lab', req: number, op: string, args: object, model?: Uint8Array | null}} LabCommand
 * @typedef {{cmd: 'save', req: number}} SaveCommand
 * @typedef {{cmd: 'ping', req: number}} PingCommand  answered once every earlier command is handled
 * @typedef {{cmd: 'loseDevice'} | {cmd: 'poison'} | {cmd: 'crash'}} TestHookCommand
 * @typedef {InitCommand | LoadCommand | FilesCommand | LimitsCommand | ForgetCommand | StartCommand | RunCommand |
 *   SetScheduleCommand | SetEpochsCommand | LabCommand | SaveCommand | PingCommand | TestHookCommand} Command
 */
export const COMMANDS = ['init', 'load', 'files', 'limits', 'forget', 'start', 'pause', 'resume', 'reset',
  'setSchedule', 'setEpochs', 'lab', 'save', 'ping', 'loseDevice', 'poison', 'crash'];

/**
 * Commands the worker handles as they arrive, beside its one queue (every
 * other command waits its turn there, behind the training call in flight):
 * the test hooks that stand for the world outside, and the data commands,
 * which download for minutes (each file they add to the dataset waits its turn).
 */
export const IMMEDIATE = ['loseDevice', 'crash', 'load', 'files', 'forget'];

/**
 * @typedef {{type: 'ready', inWorker: boolean, backend: string, wasmMemory: number}} ReadyMessage
 * @typedef {{type: 'init-failed', message: string}} InitFailedMessage
 * @typedef {{type: 'data-progress', loaded: number, total: number, files: object}} DataProgressMessage
 * @typedef {{type: 'data-file', name: string, images: number, replaced: boolean, from: string, stored: boolean, bytes: number}} DataFileMessage
 * @typedef {{type: 'data-stored', name: string, storage: object}} DataStoredMessage
 * @typedef {{type: 'data-error', name: string, message: string}} DataErrorMessage
 * @typedef {{type: 'data-done', op: string, error?: string, storage: object}} DataDoneMessage
 * @typedef {{type: 'data', train: number, test: number, files: object[], deviceBytes: number, wasmMemory: number}} DataMessage  the images in force
 * @typedef {{type: 'started', run: number, config: object, plan: object | null, numParams: number, epoch: number, wasmMemory: number}} StartedMessage
 * @typedef {{type: 'start-failed', run: number, message: string}} StartFailedMessage
 * @typedef {{type: 'evaluated', run: number, test: object, latent: object}} EvaluatedMessage  an opened model, before any step
 * @typedef {{type: 'state', run: number, state: 'training' | 'paused' | 'done'}} StateMessage
 * @typedef {{type: 'progress', run: number, steps: object[], epochEnd: object | null}} ProgressMessage
 * @typedef {{type: 'grids', run: number, recon: object, samples: object | null}} GridsMessage
 * @typedef {{type: 'snapshot', run: number, epochsDone: number, bytes: Uint8Array, adam: Uint8Array,
 *   blobs: {model: Blob, adam: Blob}}} SnapshotMessage  `blobs`: the same bytes, for IndexedDB
 * @typedef {{type: 'config', run: number, config: object, plan?: object, schedule?: boolean,
 *   epochs?: {asked: number, inForce: number}, finished?: boolean}} ConfigMessage
 * @typedef {{type: 'error', run: number, message: string}} ErrorMessage  the run stopped (a NaN loss)
 * @typedef {{type: 'refused', run: number, message: string}} RefusedMessage  a command that could not be done
 * @typedef {{type: 'fatal', run: number, reason: 'panic' | 'device-lost', message: string}} FatalMessage  the engine is gone
 * @typedef {{type: 'saved', req: number, bytes?: Uint8Array, error?: string}} SavedMessage
 * @typedef {{type: 'answer', req: number, out?: object, error?: string}} AnswerMessage
 * @typedef {{type: 'pong', req: number}} PongMessage
 * @typedef {ReadyMessage | InitFailedMessage | DataProgressMessage | DataFileMessage | DataStoredMessage |
 *   DataErrorMessage | DataDoneMessage | DataMessage | StartedMessage | StartFailedMessage | EvaluatedMessage | StateMessage |
 *   ProgressMessage | GridsMessage | SnapshotMessage | ConfigMessage | ErrorMessage | RefusedMessage |
 *   FatalMessage | SavedMessage | AnswerMessage | PongMessage} Message
 */
export const MESSAGES = ['ready', 'init-failed', 'data-progress', 'data-file', 'data-stored', 'data-error', 'data-done',
  'data', 'started', 'start-failed', 'evaluated', 'state', 'progress', 'grids', 'snapshot', 'config', 'error', 'refused',
  'fatal', 'saved', 'answer', 'pong'];

/**
 * A run's states, and the moves between them that messages and commands may
 * make (Run.to): an error is left only by a restart or a new start
 * ('loading'); a finished run goes back to 'paused' when its epochs are raised.
 */
export const RUN_MOVES = {
  loading: ['loading', 'training', 'paused', 'done', 'error'],
  training: ['loading', 'training', 'paused', 'done', 'error'],
  paused: ['loading', 'training', 'paused', 'done', 'error'],
  done: ['loading', 'paused', 'done', 'error'],
  error: ['loading', 'error'],
};
