// A run's metrics as files: each finished epoch's line of the command line's
// metrics.jsonl, written by the core (src/record.rs) and kept as it came, so
// one script grades a run from the page and a run from the command line
// (issue 25). The CSV has the same fields as columns (js/core.json, held
// equal to the core's by tests/one_table.rs), after the page's run number.
import CORE from './core.json' with { type: 'json' };

/** The epochs' records of `run` (an epoch kept from before records were written has none). */
const records = (run) => run.tests.filter((t) => t.record).map((t) => t.record);

/** The run's metrics.jsonl, line for line as `vaelab train` writes it. */
export function metricsJsonl(run) {
  return records(run).map((line) => `${line}\n`).join('');
}

/** The runs' epochs as CSV: `run`, then metrics.jsonl's fields (lists as space-separated numbers, absent fields empty). */
export function metricsCsv(runs) {
  const cell = (v) => (v == null ? '' : Array.isArray(v) ? v.join(' ') : String(v));
  const rows = [['run', ...CORE.metricsColumns].join(',')];
  for (const run of runs) {
    for (const line of records(run)) {
      const r = JSON.parse(line);
      rows.push([run.id, ...CORE.metricsColumns.map((c) => cell(r[c]))].join(','));
    }
  }
  return rows.join('\n') + '\n';
}
