/**
 * The web console (issue 21): the figures its issue sets targets for.
 *   (a) initial JavaScript, gzipped: the entry script and the modules it preloads, as
 *       `GET /` makes a browser load them before anything else (target < 400 KB);
 *   (b) the cockpit's time to interactive, measured by Playwright in Debian's Chromium: from
 *       navigation start (a signed-in tab loading `/#/cockpit`) until every widget has its
 *       data on screen (median and max of `--rounds`; target < 2 s on localhost at 1,000,000
 *       customers);
 *   (c) GraphQL requests per widget while the cockpit loads (the sign-in's viewer and
 *       catalog requests and the dashboards' definitions counted apart; target: at most 1).
 * The server runs in this process on the database of `--url` (default the 1,000,000-customer
 * PostgreSQL bench database, created once by bench/support/million-database.ts), or on an
 * in-memory PGlite with `--customers N` demo customers.
 *
 *   npx tsx bench/console.ts [--url postgres://... | --customers 2000] [--rounds 5]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { pino } from 'pino';
import { createApp } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { CONSOLE_BUILD_DIR } from '../api/console-assets.ts';
import { seedDemoDecisions } from '../api/demo-decisions.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { currentSnapshot } from '../services/snapshot.ts';
import { createApiKey } from '../store/api-keys.ts';
import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { ensureMillionDatabase } from './support/million-database.ts';
import { formatTable, median } from './support/stats.ts';

const { values } = parseArgs({ options: { url: { type: 'string' }, customers: { type: 'string' }, rounds: { type: 'string', default: '5' } } });
const ROUNDS = Math.max(1, Number(values.rounds));

console.log(`machine: ${describeMachine()}`);
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (build.status !== 0) throw new Error('scripts/build.mjs failed');

// (a) What the page loads first: its module script and the chunks it preloads.
const html = readFileSync(join(CONSOLE_BUILD_DIR, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map((m) => m[1] as string);
const initialBytes = initial.map((file) => ({ file, gzipped: gzipSync(readFileSync(join(CONSOLE_BUILD_DIR, file))).length }));
const initialKb = initialBytes.reduce((sum, f) => sum + f.gzipped, 0) / 1024;

let database: Awaited<ReturnType<typeof openDatabase>>;
let described: string;
if (values.customers) {
  database = await openDatabase({ statementTimeoutMs: 0 });
  await migrateToLatest(database.db);
  await seedDemoData(database, { customers: Number(values.customers), seed: 42 });
  described = `in-memory PGlite, ${Number(values.customers).toLocaleString('en')} demo customers`;
} else {
  const url = values.url ?? (await ensureMillionDatabase());
  database = await openDatabase({ databaseUrl: url, poolSize: 10, statementTimeoutMs: 0 });
  described = `PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')}`;
}
const domain = bundledDomain();
await seedDemoDecisions(database, domain);
if (!(await currentSnapshot(database.db))) await materializeDomain(database, domain, { statementTimeoutMs: 0 });
const app = await createApp(database, domain, { dev: false, maxBodyBytes: 2_000_000, anonymousRole: null, logger: pino({ level: 'silent' }) });
const base = `http://127.0.0.1:${await app.listen(0)}`;
const key = await createApiKey(database.db, `bench-console-${Date.now()}`, 'admin');

const browser = await chromium.launch({
  executablePath: process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const rounds: { seconds: number; widgets: number; requests: number; sessionRequests: number; definitionRequests: number }[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    // A signed-in tab: the credential is in session storage before the page's scripts run.
    await context.addInitScript(`sessionStorage.setItem('strata.console.credential', ${JSON.stringify(key)})`);
    const page = await context.newPage();
    const operations: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/graphql') && request.method() === 'POST') {
        const body = request.postData() ?? '';
        operations.push(/(?:query|mutation)\s+(\w+)/.exec(JSON.parse(body).query as string)?.[1] ?? 'anonymous');
      }
    });
    const started = performance.now();
    await page.goto(`${base}/#/cockpit`);
    await page.waitForSelector('h1.screen-title');
    // Every widget drawn and none still loading (the page's own text, read in the page).
    await page.waitForFunction(
      () => {
        // Runs in the page (the bench's tsconfig has no DOM types).
        const document = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } }).document;
        const loading = Array.from(document.querySelectorAll('main p')).some((p) => p.textContent === 'Loading…' || p.textContent === '加载中…');
        return document.querySelectorAll('.tile').length > 0 && !loading;
      },
      undefined,
      { timeout: 120_000, polling: 20 },
    );
    const seconds = (performance.now() - started) / 1000;
    const widgets = await page.locator('.tile').count();
    const sessionRequests = operations.filter((name) => name === 'ConsoleViewer' || name === 'ConsoleCatalog').length;
    const definitionRequests = operations.filter((name) => name === 'ConsoleDashboards' || name === 'ConsoleDashboard').length;
    rounds.push({ seconds, widgets, requests: operations.length - sessionRequests - definitionRequests, sessionRequests, definitionRequests });
    await context.close();
  }
} finally {
  await browser.close();
  await app.close();
  await database.close();
}

const seconds = rounds.map((r) => r.seconds);
const last = rounds.at(-1);
console.log(`database: ${described}; load average at end ${loadAverage()[0].toFixed(2)}`);
console.log(
  formatTable(
    ['what', 'figure', 'target'],
    [
      [`initial JS gzipped (${initialBytes.map((f) => `${f.file} ${(f.gzipped / 1024).toFixed(1)} KB`).join(', ')})`, `${initialKb.toFixed(1)} KB`, '< 400 KB'],
      [`cockpit interactive, median of ${ROUNDS}`, `${median(seconds).toFixed(2)} s (max ${Math.max(...seconds).toFixed(2)} s)`, '< 2 s at 1M on localhost'],
      [
        'GraphQL requests per widget on load',
        `${last ? (last.requests / Math.max(1, last.widgets)).toFixed(2) : '?'} (${last?.requests} for ${last?.widgets} widgets; + ${last?.definitionRequests} for the dashboard definitions, ${last?.sessionRequests} for the sign-in)`,
        '<= 1',
      ],
    ],
  ),
);
console.log(`peak RSS: ${peakRssMb()} MB`);
