// Stage `report`: the EDA page. Reads the clean, keypairs and features tables (docs/data-tables.md)
// with DuckDB, writes reports/index.html (self-contained) and reports/summary.json (every number
// the page shows). Started by `pipe build` as docs/stage-contract.md describes.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareWithPrevious, readLockFingerprints, stageContext } from '../lib/stage-api/index.js';
import { renderCharts } from './report/charts.js';
import { openStageDb } from './duckdb.js';
import { renderPage } from './report/html.js';
import { readInputs } from './report/inputs.js';
import {
  keyFrequency,
  latencyGroups,
  participantLatencies,
  rejectsByRule,
  sessionRows,
  tableCounts,
  topDigraphs,
} from './report/queries.js';
import { assembleSummary } from './report/summary.js';

const examplesPerRule = 3;
const topKeys = 30;
const topDigraphCount = 15;

const ctx = stageContext();
const outDir = ctx.out('reports');
const db = await openStageDb(ctx.workspace, ctx.stage);
try {
  const inputs = await readInputs(db, ctx.workspace);
  if (!inputs.ok) {
    process.stderr.write(`report: ${inputs.error}\n`);
    process.exitCode = 1;
  } else {
    const t = inputs.value.sql;
    const summary = assembleSummary({
      version: process.env.PIPE_VERSION || 'unpublished',
      builtAt: new Date(),
      lock: readLockFingerprints(ctx.workspace, ctx.stage),
      versionDiff: await compareWithPrevious({
        workspace: ctx.workspace,
        self: ctx.stage,
        remoteUrl: process.env.PIPE_REMOTE,
        gcsEndpoint: process.env.PIPE_GCS_ENDPOINT,
        version: process.env.PIPE_VERSION,
      }),
      inputs: inputs.value,
      counts: await tableCounts(db, t),
      sessions: await sessionRows(db, t, inputs.value.sessionsSql),
      rejects: await rejectsByRule(db, t, examplesPerRule),
      latencyGroups: await latencyGroups(db, t),
      participantLatencies: await participantLatencies(db, t),
      digraphs: await topDigraphs(db, t, topDigraphCount),
      keys: await keyFrequency(db, t),
      topKeys,
    });
    const charts = await renderCharts(summary);
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFile(join(outDir, 'index.html'), renderPage(summary, charts));
    ctx.writeMetrics({
      records: { charts: charts.length, participants: summary.typing.all.participants },
    });
    process.stdout.write(
      `report: ${charts.length} charts, ${summary.typing.all.participants} participants -> reports/index.html\n`,
    );
  }
} finally {
  db.close();
}
