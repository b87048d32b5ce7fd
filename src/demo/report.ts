// The demo's report.html: the results table, the source stages (loss per source task, SVGD
// bandwidth and particle spread), and per target method its training loss and validation score
// over the seeds, with each run's test score and time.
import { writeFileAtomic } from '../io/atomic.js';
import { renderPage } from '../report/html.js';
import { htmlTable, lossSeries, runSeconds, runSection, validationSeries, type RunData } from '../report/runs.js';
import { escapeXml, linePlot } from '../report/svg.js';
import { DEMO_METHODS, type DemoResult } from './protocol.js';

function resultsTable(r: DemoResult): string {
  const others = [...new Set(r.rows.flatMap((x) => Object.keys(x.others)))];
  return htmlTable(
    ['method', `${r.protocol.target} test accuracy (mean ± sd)`, 'per seed', 'source stage (s)', 'target stage per seed (s)', ...others.map((t) => `${t} test accuracy`)],
    r.rows.map((x) => [
      x.label, `${x.mean.toFixed(1)} ± ${x.sd.toFixed(1)}`, x.scores.map((s) => s.toFixed(0)).join(' '),
      x.sourceSeconds === null ? '-' : x.sourceSeconds.toFixed(0), x.targetSeconds.toFixed(0),
      ...others.map((t) => (x.others[t] ? x.others[t]!.map((s) => s.toFixed(0)).join(' ') : '-')),
    ]),
  );
}

function methodSection(r: DemoResult, key: string, label: string, runs: ReadonlyMap<string, RunData>): string {
  const seeds = r.protocol.seeds.map((s) => ({ seed: s, run: runs.get(`target-${key}-seed${s}`)! }));
  const loss = linePlot(seeds.map(({ seed, run }) => ({ ...lossSeries(run.log)[0]!, name: `seed ${seed}` })), { title: `${label}: training loss`, xLabel: 'step', yLabel: 'loss' });
  const validation = linePlot(seeds.flatMap(({ seed, run }) => validationSeries(run.log).map((v) => ({ ...v, name: `seed ${seed} ${v.name}` }))),
    { title: 'Validation accuracy', xLabel: 'epoch', yLabel: 'accuracy' });
  const table = htmlTable(['seed', 'best epoch', 'validation', 'test (per task)', 'time (s)'], seeds.map(({ seed, run }) => [
    seed, run.results?.best_epoch ?? '-', run.results ? run.results.validation.average.toFixed(1) : '-',
    run.results ? Object.entries(run.results.test.tasks).map(([t, v]) => `${t} ${v.score.toFixed(1)}`).join(', ') : '-',
    (runSeconds(run.record) ?? Number.NaN).toFixed(0),
  ]));
  return `<section><h2>Target stage: ${escapeXml(label)}</h2><div class="plots">${loss}${validation}</div>${table}</section>`;
}

/** Writes the demo report to `path`. */
export function writeDemoReport(path: string, r: DemoResult, table: string, runs: ReadonlyMap<string, RunData>): void {
  const p = r.protocol;
  const intro = `<p>BPT on real data: sources ${escapeXml(p.sources.join(', '))}; target ${escapeXml(p.target)} with ${p.shots} labelled examples; `
    + `${p.seeds.length} seed(s); frozen model <code>${escapeXml(r.model)}</code>; prompt length ${p.promptLength}. Test accuracy on the target's test split; `
    + `the best epoch is chosen on validation.</p>${resultsTable(r)}<pre>${escapeXml(table)}</pre>`;
  const sections = [
    runSection(runs.get('source-bpt')!, 'Source stage: BPT (SVGD particles)'),
    runSection(runs.get('source-vanilla')!, 'Source stage: vanilla (one prompt on the union)'),
    ...DEMO_METHODS.map(({ key, label }) => methodSection(r, key, label, runs)),
  ];
  writeFileAtomic(path, [renderPage('bpt demo: Bayesian prompt tuning on real data', intro, sections)]);
}
