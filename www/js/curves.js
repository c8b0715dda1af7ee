// The loss curves of the current run: reconstruction on one chart; the KL,
// β and the schedule's plan (or the capacity C) on their own, since the KL
// (a few nats) on the recon's axis (hundreds) was a flat line at zero.
import { drawChart, smooth } from './chart.js';
import { ROLE } from './palette.js';

const $ = (id) => document.getElementById(id);
// Train and test differ by markers (the test's per epoch), β and its plan by dash: not by colour alone.
const COL = ROLE;

/** Draws `run`'s curves (or the empty charts for the settings `config`). */
export function drawCurves(run, config) {
  const series = [];
  const klSeries = [];
  if (run) {
    const steps = run.steps;
    series.push({ label: 'train recon', color: COL.recon, points: smooth(steps.map((p) => [p.x, p.recon])) });
    series.push({ label: 'test recon', color: COL.recon, dots: true, width: 1, points: run.tests.map((t) => [t.epoch + 1, t.recon]) });
    if (run.config.lossMode === 'vae') {
      // The KL (a few nats to tens) gets its own chart: on the recon's axis
      // (hundreds) it was a flat line at zero.
      klSeries.push({ label: 'train KL', color: COL.kl, points: smooth(steps.map((p) => [p.x, p.kl])) });
      klSeries.push({ label: 'test KL', color: COL.kl, dots: true, width: 1, points: run.tests.map((t) => [t.epoch + 1, t.kl]) });
      if (run.config.betaMode === 'capacity') {
        // The capacity objective aims the KL at C, in nats: drawn on the KL's own axis.
        klSeries.push({ label: 'C (target KL)', color: COL.beta, dash: [2, 3], points: steps.map((p) => [p.x0, p.capacity ?? 0]) });
        if (run.plan?.capacity) klSeries.push({ label: 'C planned', color: COL.beta, dash: [8, 4], width: 1, points: run.plan.x.map((x, i) => [x, run.plan.capacity[i]]) });
      } else {
        klSeries.push({ label: 'β', color: COL.beta, axis: 'right', dash: [2, 3], points: steps.map((p) => [p.x0, p.beta]) });
        if (run.plan) klSeries.push({ label: 'β planned', color: COL.beta, axis: 'right', dash: [8, 4], width: 1, points: run.plan.x.map((x, i) => [x, run.plan.beta[i]]) });
      }
    }
  }
  const xMax = run ? run.config.numEpochs : config.numEpochs;
  drawChart($('loss-chart'), { series, markers: run ? run.markers : [], xMax, yLabel: 'recon', empty: run ? 'Waiting for the first training steps…' : 'Press Train (or a preset) to see the curves' });
  const vaeRun = (run ? run.config : config).lossMode === 'vae';
  $('kl-chart').hidden = !vaeRun;
  if (vaeRun) drawChart($('kl-chart'), { series: klSeries, markers: run ? run.markers : [], xMax, yLabel: 'KL (nats)', empty: 'The KL term and β appear here for a VAE' });
}
