// Each chart's numbers as a table (issue 25): what a chart draws, for a
// screen reader, or for anyone who wants an exact value. A table is rebuilt
// only when its numbers change (a new epoch, another run).

const $ = (id) => document.getElementById(id);
const built = new Map(); // table id → what it was built from
const num = (v, digits = 1) => (v == null || Number.isNaN(v) ? '–' : Math.abs(v) < 10 && v !== 0 ? v.toFixed(3) : v.toFixed(digits));

/** Table `id` rebuilt from `head` and `rows` of text, unless `key` says it already shows them. */
export function fill(id, key, head, rows) {
  if (built.get(id) === key) return;
  built.set(id, key);
  const table = $(id);
  const tr = (cells, tag) => {
    const row = document.createElement('tr');
    for (const c of cells) {
      const cell = document.createElement(tag);
      if (tag === 'th') cell.scope = 'col';
      cell.textContent = c;
      row.appendChild(cell);
    }
    return row;
  };
  const thead = document.createElement('thead');
  thead.appendChild(tr(head, 'th'));
  const tbody = document.createElement('tbody');
  for (const r of rows) tbody.appendChild(tr(r, 'td'));
  table.replaceChildren(thead, tbody);
}

/** The loss and KL charts', the latent chart's and the rate–distortion plane's numbers. */
export function renderChartTables(run, runs) {
  const tests = run ? run.tests : [];
  fill('curve-table', `${run?.id}:${tests.length}`,
    ['Epoch', 'β', 'Train recon', 'Train KL', 'Test recon', 'Test KL'],
    tests.map((t) => [t.epoch + 1, num(t.beta, 3), num(t.train?.recon), num(t.train?.kl), num(t.recon), num(t.kl)]));
  const u = run?.latent;
  const vae = Boolean(u && u.klPerDim.length);
  fill('latent-table', `${run?.id}:${tests.length}:${Boolean(u)}`,
    ['Dimension', ...(vae ? ['KL (nats)'] : []), vae ? 'Variance of the mean' : 'Variance of z', 'Active'],
    u ? u.order.map((j) => [j, ...(vae ? [num(u.klPerDim[j])] : []), num(u.variance[j]), u.variance[j] > u.threshold ? 'yes' : 'no']) : []);
  const vaes = runs.filter((r) => r.config.lossMode === 'vae' && r.tests.length);
  fill('rd-table', vaes.map((r) => `${r.id}:${r.tests.length}`).join(','),
    ['Run', 'Latent size', 'Epoch', 'Test KL (rate)', 'Test recon (distortion)'],
    vaes.map((r) => { const t = r.tests.at(-1); return [`#${r.id}`, r.config.latentSize, t.epoch + 1, num(t.kl), num(t.recon)]; }));
}
