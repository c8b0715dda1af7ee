// The page's shared state: the settings in force, the engine, the runs, the
// URL's page options and what the data panel says. The page's parts (status,
// render, settings-flow, data-panel, model-files, lifecycle) read and change
// it here; main.js wires them together. Nothing here trains or draws.
import { fromQuery } from './state.js';
import { parseTeacher } from './teacher.js';
import { DEFAULTS } from './settings.js';

const parsed = fromQuery(location.search);
const limit = (v) => (v && Number(v) >= 1 ? Math.floor(Number(v)) : null);

export const app = {
  /** The settings in force (what Train starts). */
  config: parsed.config,
  /** The URL's page options (state.js PAGE_KEYS). */
  page: parsed.page,
  urlProblems: parsed.problems,
  teacher: parseTeacher(parsed.page, Object.keys(DEFAULTS)),
  adapterName: 'checking…',
  /** The Engine (engine.js): the worker and the run in it. */
  engine: null,
  backend: parsed.page.backend === 'cpu' ? 'cpu' : 'webgpu',
  /** Before a run exists: loading | idle | error. */
  pageState: 'loading',
  pageError: null,
  runs: [],
  /** True while the runs kept by an earlier visit are brought back (kept-runs.js). */
  restoring: false,
  selected: new Set(),
  /** File lists the user chose (handles, not bytes), to refill a restarted engine. */
  picked: [],
  dataErrors: [],
  dataNotes: '',
  persisted: null,
  limits: { images: limit(parsed.page.images), tests: limit(parsed.page.tests) },
  /** The teacher's models (models/manifest.json), which the lesson shows beside the class's runs. */
  hosted: { models: [], base: '' },
};

export const dataBase = () => new URL(app.page.data || 'data/', location.href).href;

export function currentRun() { return app.engine && app.engine.run; }

/** The page's state for the buttons and the status contract. */
export function state() {
  const run = currentRun();
  if (run) return run.state;
  if (app.pageState === 'idle' && app.engine && app.engine.dataPending > 0) return 'loading';
  return app.pageState;
}
