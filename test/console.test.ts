import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Browser, Locator, Page } from 'playwright-core';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { DEFAULT_ANALYTICS_CAPACITY } from '../services/analytics-lane.ts';
import { buildConsole, launchChromium, openWatchedPage, screenshot, seriousAxeViolations, type WatchedPage } from './support/console-browser.ts';

/**
 * The web console end to end: a real server (demo data, every role's key), the built console
 * at GET /, Debian's Chromium driven by playwright-core. Every page fails on a browser console
 * error (except the HTTP status of a refusal the step expects) and on a serious axe-core
 * violation; the numbers shown are compared with the API's own answers.
 */

/** A locator's text content ('' when it has none). */
async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

/** Waits for `selector` (visible, or only `attached`); a failure says where the page was and what it showed, not only the wait that ran out. */
async function shown(page: Page, selector: string, state: 'visible' | 'attached' = 'visible'): Promise<void> {
  await page.waitForSelector(selector, { state }).catch(async (error: unknown) => {
    const body =
      (await page
        .locator('main')
        .first()
        .textContent({ timeout: 1_000 })
        .catch(() => null)) ?? '';
    throw new Error(`${String(error)}\nthe page was ${page.url()}, showing: ${body.replace(/\s+/g, ' ').slice(0, 600)}`);
  });
}

type Key = 'admin' | 'analyst' | 'app' | 'steward' | 'approver' | 'operator' | 'operator2';
type ScreenName = 'cockpit' | 'explorer' | 'stewards' | 'audiences' | 'workbench';

/** What each role sees in the navigation (the permission table, services/authorization.ts, read by hand). */
const VISIBLE: Record<Exclude<Key, 'operator2'>, ScreenName[]> = {
  analyst: ['cockpit', 'explorer', 'stewards', 'audiences', 'workbench'],
  app: ['explorer'],
  steward: ['cockpit', 'explorer', 'stewards', 'audiences', 'workbench'],
  approver: ['cockpit', 'explorer', 'stewards', 'workbench'],
  operator: ['cockpit', 'explorer', 'audiences', 'workbench'],
  admin: ['cockpit', 'explorer', 'stewards', 'audiences', 'workbench'],
};

const GOAL = { key: 'e2e_q1', metric: 'purchase_amount', target: 5_000_000, period: { from: '2026-01-01', to: '2026-04-01' } };

await describeEachEngine('the web console on %s', (engine) => {
  let server: DemoServer<Key>;
  let browser: Browser;
  const { post, ok } = graphqlClient(() => server.base);
  const as = (who: Key) => (query: string, variables?: Record<string, unknown>) => ok(server.keys[who], query, variables);
  const pages: WatchedPage[] = [];
  /** The issuer of the JWTs the server accepts (a JWKS file in a temporary folder). */
  let jwks = '';
  let signingKey: CryptoKey;

  beforeAll(async () => {
    buildConsole();
    jwks = await mkdtemp(join(tmpdir(), 'strata-console-jwks-'));
    const pair = await generateKeyPair('RS256', { extractable: true });
    signingKey = pair.privateKey;
    await writeFile(join(jwks, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'console-1', alg: 'RS256', use: 'sig' }] }));
    [server, browser] = await Promise.all([
      startDemoServer(engine, {
        customers: 800,
        seed: 11,
        goals: true,
        keys: {
          admin: ['e2e-admin', 'admin'],
          analyst: ['e2e-analyst', 'analyst'],
          app: ['e2e-app', 'app'],
          steward: ['e2e-steward', 'steward'],
          approver: ['e2e-approver', 'approver'],
          operator: ['e2e-operator', 'operator'],
          operator2: ['e2e-operator-2', 'operator'],
        },
        app: {
          jwt: {
            jwks: join(jwks, 'jwks.json'),
            issuer: 'https://idp.example.com/',
            audience: ['strata-console'],
            algorithms: ['RS256'],
            roleClaim: 'role',
            clearanceClaim: 'strata_clearance',
            scopeClaim: 'strata_scope',
            clockToleranceSeconds: 30,
          },
        },
      }),
      launchChromium(),
    ]);
    await as('admin')('mutation($i: CreateGoalInput!) { createGoal(input: $i) { key } }', { i: GOAL });
    // The profile snapshot audiences and insight read.
    await as('admin')('mutation { materializeTags { status } }');
  }, 300_000);

  afterAll(async () => {
    for (const page of pages) await page.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    if (jwks) await rm(jwks, { recursive: true, force: true });
  });

  /** A fresh tab signed in with a role's key. */
  async function signIn(who: Key, locale?: string): Promise<WatchedPage> {
    const watched = await openWatchedPage(browser, locale ? { locale } : {});
    pages.push(watched);
    const { page } = watched;
    await page.goto(`${server.base}/`);
    await page.fill('#credential', server.keys[who]);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=viewer]');
    return watched;
  }

  /** Waits until the screen's code has loaded (React's Suspense shows "…" until then) and no widget of it is loading. */
  async function settled(page: Page): Promise<void> {
    await page.waitForSelector('h1.screen-title');
    await expect.poll(() => page.locator('text=/^(Loading…|加载中…|…)$/').count(), { timeout: 60_000 }).toBe(0);
  }

  async function open(page: Page, screen: ScreenName, params = ''): Promise<void> {
    await page.goto(`${server.base}/#/${screen}${params}`);
    await settled(page);
  }

  async function clean(watched: WatchedPage, where: string): Promise<void> {
    expect(await seriousAxeViolations(watched.page), `axe on ${where}`).toEqual([]);
    expect(watched.take(), `browser console on ${where}`).toEqual([]);
  }

  it('serves the console at GET / with a strict CSP and hashed assets that do not clash with the API routes', async () => {
    const page = await fetch(`${server.base}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    const scripts = [...html.matchAll(/src="(\/console\/assets\/[^"]+\.js)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    const asset = await fetch(`${server.base}${scripts[0]}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.base}/console/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.base}/`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
  });

  it('refuses a bad key with the server’s message and keeps no credential in the URL', async () => {
    const watched = await openWatchedPage(browser);
    pages.push(watched);
    await watched.page.goto(`${server.base}/`);
    await watched.page.fill('#credential', 'sk_not_a_real_key_at_all_000000000');
    await watched.page.click('button[type=submit]');
    await expect.poll(() => text(watched.page.locator('[role=alert]'))).toMatch(/^UNAUTHENTICATED: /);
    // The browser logs the 401 of the refused request; nothing else.
    expect(watched.take().every((e) => /status of 401/.test(e))).toBe(true);
    const signed = await signIn('analyst');
    expect(signed.page.url()).not.toContain(server.keys.analyst);
    expect(await signed.page.evaluate<string[]>('Object.values(sessionStorage)')).toContain(server.keys.analyst);
    expect(await signed.page.evaluate<string[]>('Object.values(localStorage)')).not.toContain(server.keys.analyst);
  });

  it('signs in with a JWT: the token’s subject and role, the role’s screens', async () => {
    const token = await new SignJWT({ role: 'operator' })
      .setProtectedHeader({ alg: 'RS256', kid: 'console-1', typ: 'JWT' })
      .setSubject('carol')
      .setIssuer('https://idp.example.com/')
      .setAudience('strata-console')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(signingKey);
    const watched = await openWatchedPage(browser);
    pages.push(watched);
    const { page } = watched;
    await page.goto(`${server.base}/`);
    await page.check('input[name=kind] >> nth=1');
    await page.fill('#credential', token);
    await page.click('button[type=submit]');
    await expect.poll(() => text(page.getByTestId('viewer'))).toBe('jwt:carol · operator');
    expect(await page.locator('header.top nav a[data-screen]').evaluateAll((links) => links.map((a) => a.getAttribute('data-screen')))).toEqual(
      VISIBLE.operator,
    );
    expect(page.url()).not.toContain(token);
    await clean(watched, 'JWT sign-in');
  });

  for (const who of Object.keys(VISIBLE) as (keyof typeof VISIBLE)[]) {
    it(`signs in as ${who}, shows only the screens the role may use, and walks each without console errors or serious axe violations`, async () => {
      const watched = await signIn(who);
      const { page } = watched;
      const nav = await page.locator('header.top nav a[data-screen]').evaluateAll((links) => links.map((a) => a.getAttribute('data-screen')));
      expect(nav).toEqual(VISIBLE[who]);
      for (const screen of VISIBLE[who]) {
        await page.click(`nav a[data-screen=${screen}]`);
        await settled(page);
        await clean(watched, `${who} ${screen}`);
        if (who === 'admin') await screenshot(page, screen);
      }
      // A screen the role may not use is not shown even by its address.
      const hidden = (['cockpit', 'explorer', 'stewards', 'audiences', 'workbench'] as const).filter((s) => !VISIBLE[who].includes(s));
      for (const screen of hidden) {
        await open(page, screen);
        expect(await page.locator('header.top nav a[aria-current=page]').getAttribute('data-screen')).not.toBe(screen);
      }
      expect(watched.take()).toEqual([]);
    });
  }

  it('shows the cockpit’s goal figures as the API reads them, and switches to Chinese with numbers, money and dates per locale', async () => {
    const { goals } = await as('admin')('{ goals(keys: ["e2e_q1"]) { actual progress } }');
    const watched = await signIn('admin');
    const { page } = watched;
    await open(page, 'cockpit');
    const actual = page.getByTestId('goal-e2e_q1-actual');
    expect(Number(await actual.getAttribute('data-value'))).toBe(goals[0].actual);
    expect(await text(actual)).toBe(new Intl.NumberFormat('en', { style: 'currency', currency: 'CNY', maximumFractionDigits: 2 }).format(goals[0].actual));
    // The number links to its governed definition and the query that produced it.
    await actual.click();
    await page.waitForSelector('[data-testid=definition-purchase_amount]');
    await page.waitForSelector('[data-testid=result-table]');
    await page.selectOption('.who select', 'zh-CN');
    await open(page, 'cockpit');
    expect(await text(page.locator('h1.screen-title'))).toBe('驾驶舱');
    expect(await text(page.getByTestId('goal-e2e_q1-actual'))).toBe(
      new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY', maximumFractionDigits: 2 }).format(goals[0].actual),
    );
    expect(await text(page.locator('[data-testid=goal-e2e_q1]'))).toContain('2026年1月1日');
    await clean(watched, 'cockpit in Chinese');
    await screenshot(page, 'cockpit-zh');
  });

  it('cockpit: the seven template dashboards render every tile; numbers, funnel and change equal the API; the date range and segment pickers ask what the API answers', async () => {
    const tileFields = '{ key tiles { key kind visualization query } }';
    const { dashboards } = await as('admin')(`{ dashboards ${tileFields} }`);
    const keys = dashboards.map((d: { key: string }) => d.key);
    expect(keys).toEqual(
      expect.arrayContaining(['goal_tracking', 'placement_efficiency', 'strategy_tracking', 'basic_flow', 'channels', 'customer_structure', 'customer_health']),
    );
    type TileDef = { key: string; kind: string; visualization: string; query: Record<string, any> };
    const board = (key: string) => dashboards.find((d: { key: string }) => d.key === key) as { tiles: TileDef[] };
    const watched = await signIn('admin');
    const { page } = watched;
    for (const key of keys) {
      await open(page, 'cockpit', `?dashboard=${key}`);
      await page.waitForSelector(`[data-testid=dashboard-${key}]`);
      await settled(page);
      expect(await page.locator(`[data-testid=dashboard-${key}] > .tile`).count()).toBe(board(key).tiles.length);
      expect(await page.locator('.tile [role=alert]').allTextContents(), key).toEqual([]);
      await clean(watched, `cockpit ${key}`);
      if (key === 'basic_flow' || key === 'placement_efficiency') await screenshot(page, `cockpit-${key}`);
    }

    // A number tile, the funnel and the change, each against the operation the tile names.
    const numberTile = board('goal_tracking').tiles.find((t) => t.kind === 'METRIC' && t.visualization === 'number') as TileDef;
    const metric = numberTile.query.metrics[0] as string;
    const numberOf = async (query: object) =>
      (await as('admin')('query($q: MetricQueryInput!) { metrics(query: $q) { rows } }', { q: query })).metrics.rows[0]?.[metric];
    await open(page, 'cockpit', '?dashboard=goal_tracking');
    const shownNumber = async () => Number(await page.getByTestId(`tile-${numberTile.key}-value`).getAttribute('data-value'));
    await expect.poll(shownNumber).toBe(await numberOf(numberTile.query));
    const changeTile = board('goal_tracking').tiles.find((t) => t.kind === 'CHANGE') as TileDef;
    const { explainMetricChange } = await as('admin')('query($i: ExplainMetricChangeInput!) { explainMetricChange(input: $i) { base current change } }', {
      i: changeTile.query,
    });
    const changeBox = page.getByTestId(`tile-${changeTile.key}`);
    expect(Number(await changeBox.getByTestId('change-base').getAttribute('data-value'))).toBe(explainMetricChange.base);
    expect(Number(await changeBox.getByTestId('change-current').getAttribute('data-value'))).toBe(explainMetricChange.current);
    expect(Number(await changeBox.getByTestId('change-change').getAttribute('data-value'))).toBe(explainMetricChange.change);

    const funnelTile = board('basic_flow').tiles.find((t) => t.kind === 'FUNNEL' && !t.query.groupBy) as TileDef;
    const { funnel } = await as('admin')('query($i: FunnelInput!) { funnel(input: $i) { groups { steps { customers } } } }', { i: funnelTile.query });
    await open(page, 'cockpit', '?dashboard=basic_flow');
    const cells = page.locator(`[data-testid=tile-${funnelTile.key}] td[data-value]`);
    expect((await cells.evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value')))).map(Number)).toEqual(
      funnel.groups[0].steps.map((step: { customers: number }) => step.customers),
    );

    // The segment picker adds the tag to every tile's filter.
    await open(page, 'cockpit', '?dashboard=goal_tracking');
    await page.selectOption('[data-testid=cockpit-segment]', 'risk_level');
    const { catalog } = await as('admin')('{ catalog { tags { key values } } }');
    const firstRisk = catalog.tags.find((t: { key: string }) => t.key === 'risk_level').values[0];
    const segment = { dimension: 'customer.tag.risk_level', op: 'EQ', values: [firstRisk] };
    await expect
      .poll(shownNumber)
      .toBe(await numberOf({ ...numberTile.query, where: numberTile.query.where ? { and: [numberTile.query.where, segment] } : segment }));

    // A date range: the server resolves every tile's period to it.
    await page.selectOption('[data-testid=cockpit-segment]', '');
    await page.fill('[data-testid=cockpit-from]', '2026-03-01');
    await page.fill('[data-testid=cockpit-to]', '2026-04-01');
    const { dashboard } = await as('admin')(`{ dashboard(key: "goal_tracking", timeRange: { from: "2026-03-01", to: "2026-04-01" }) ${tileFields} }`);
    const ranged = (dashboard.tiles as TileDef[]).find((t) => t.key === numberTile.key) as TileDef;
    expect(ranged.query.timeRange).toEqual({ from: '2026-03-01', to: '2026-04-01' });
    await expect.poll(shownNumber).toBe(await numberOf(ranged.query));
    expect(watched.take()).toEqual([]);
  });

  it('explains the change between the last two periods of an explorer answer in one click, as explainMetricChange answers', async () => {
    const query = {
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
      timeRange: { from: '2026-01-01', to: '2026-07-01' },
    };
    const watched = await signIn('analyst');
    const { page } = watched;
    await open(page, 'explorer', `?q=${encodeURIComponent(JSON.stringify(query))}`);
    await page.waitForSelector('[data-testid=result-table] tbody tr');
    const asked = page.waitForRequest((request) => request.method() === 'POST' && (request.postData() ?? '').includes('ConsoleExplainChange'));
    await page.click('[data-testid=explain-change]');
    const input = JSON.parse((await asked).postData() ?? '{}').variables.input;
    expect(input.base).toEqual({ from: '2026-05-01', to: '2026-06-01' });
    expect(input.current).toEqual({ from: '2026-06-01', to: '2026-07-01' });
    const { explainMetricChange } = await as('analyst')(
      'query($i: ExplainMetricChangeInput!) { explainMetricChange(input: $i) { base current change contributions { suppressed } } }',
      { i: input },
    );
    await page.waitForSelector('[data-testid=change-view]');
    expect(Number(await page.getByTestId('change-base').getAttribute('data-value'))).toBe(explainMetricChange.base);
    expect(Number(await page.getByTestId('change-current').getAttribute('data-value'))).toBe(explainMetricChange.current);
    expect(Number(await page.getByTestId('change-change').getAttribute('data-value'))).toBe(explainMetricChange.change);
    await clean(watched, 'explained change');
    await screenshot(page, 'explorer-change');
  });

  it('monitors: evaluated from the workbench, each latest value and every firing’s explanation as the API reads them', async () => {
    const watched = await signIn('operator');
    const { page } = watched;
    await open(page, 'workbench');
    await page.click('[data-testid=run-monitors]');
    await expect.poll(() => text(page.getByTestId('run-monitors-result')), { timeout: 60_000 }).toMatch(/^Evaluated \d+, fired \d+/);
    const { monitors } = await as('operator')(
      '{ monitors { key evaluations(first: 5) { value period { from } } firings(first: 5) { period { from } explanation { base current change } } } }',
    );
    expect(monitors.length).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-testid=monitors] tbody tr').count()).toBe(monitors.length);
    for (const monitor of monitors) {
      const latest = monitor.evaluations[0];
      const cell = page.locator(`[data-testid=monitors] tr[data-monitor=${monitor.key}] a.number`);
      if (latest) expect(await cell.getAttribute('data-value'), monitor.key).toBe(latest.value === null ? '' : String(latest.value));
    }
    const fired = monitors.flatMap((m: { key: string; firings: { period: { from: string }; explanation: unknown }[] }) =>
      m.firings.filter((f) => f.explanation).map((f) => ({ id: `${m.key}@${f.period.from}`, explanation: f.explanation as { base: number; current: number } })),
    );
    expect(await page.locator('[data-testid=firings] li').count()).toBe(monitors.reduce((n: number, m: { firings: unknown[] }) => n + m.firings.length, 0));
    if (fired.length > 0) {
      const [first] = fired;
      await page.click(`[data-testid="explain-${first.id}"]`);
      const view = page.locator(`[data-firing="${first.id}"] [data-testid=change-view]`);
      expect(Number(await view.getByTestId('change-base').getAttribute('data-value'))).toBe(first.explanation.base);
      expect(Number(await view.getByTestId('change-current').getAttribute('data-value'))).toBe(first.explanation.current);
    }
    await clean(watched, 'monitors');
    await screenshot(page, 'monitors');
  });

  it('stewards’ desk: the tag list shows each tag’s coverage as the snapshot holds it; a saved draft is edited, previewed again and resubmitted', async () => {
    const { catalog } = await as('steward')('{ catalog { tags { key status coverage { asOf customers share suppressed } } } }');
    type Covered = { key: string; coverage: { customers: number | null; share: number | null; suppressed: boolean } | null };
    const shown = (catalog.tags as Covered[]).filter((t) => t.coverage && !t.coverage.suppressed);
    expect(shown.length).toBeGreaterThan(0);
    // The API's coverage against the published snapshot itself.
    const db = server.database.db;
    const { rows } = await sql<{
      covered: number;
      total: number;
    }>`SELECT count(*) FILTER (WHERE p.tags ->> 'dormant_90d' IS NOT NULL)::int AS covered, count(*)::int AS total
      FROM strata.customer_profiles p WHERE p.run_id = (SELECT run_id FROM strata.profile_snapshot WHERE id = 1)`.execute(db);
    const dormant = shown.find((t) => t.key === 'dormant_90d');
    expect(dormant?.coverage).toMatchObject({ customers: rows[0]?.covered, share: (rows[0]?.covered ?? 0) / (rows[0]?.total ?? 1) });
    // Roles without previews get no coverage.
    expect((await as('operator')('{ catalog { tags { key coverage { share } } } }')).catalog.tags.every((t: Covered) => t.coverage === null)).toBe(true);

    await as('steward')('mutation($i: CreateTagInput!) { createTag(input: $i) { version } }', {
      i: { key: 'e2e_edit_flag', kind: 'BOOLEAN', description: 'Edited after save', rule: { tag: 'dormant_90d', op: 'EQ', values: ['true'] } },
    });
    const watched = await signIn('steward');
    const { page } = watched;
    await open(page, 'stewards');
    for (const t of shown) {
      expect(Number(await page.getByTestId(`coverage-${t.key}`).getAttribute('data-value')), t.key).toBe(t.coverage?.share);
      expect(Number(await page.getByTestId(`coverage-${t.key}-customers`).getAttribute('data-value')), t.key).toBe(t.coverage?.customers);
    }
    for (const t of (catalog.tags as Covered[]).filter((x) => x.coverage?.suppressed))
      expect(await page.getByTestId(`coverage-${t.key}`).getAttribute('data-suppressed')).toBe('true');
    await page.click('[data-testid=tag-list] button:has-text("e2e_edit_flag")');
    await page.click('[data-testid=edit-tag]');
    const form = page.locator('form.new-tag');
    expect(await form.getByTestId('new-tag-key').inputValue()).toBe('e2e_edit_flag');
    await form.locator('input[aria-label="Values (comma-separated)"]').first().fill('false');
    const { tagPreview } = await as('steward')('query($r: RuleInput) { tagPreview(rule: $r, kind: BOOLEAN) { customers } }', {
      r: { tag: 'dormant_90d', op: 'EQ', values: ['false'] },
    });
    await expect.poll(() => text(form.getByTestId('preview-customers')), { timeout: 30_000 }).toBe(new Intl.NumberFormat('en').format(tagPreview.customers));
    await form.scrollIntoViewIfNeeded();
    await screenshot(page, 'stewards-edit-draft');
    await form.getByTestId('save-tag').click();
    await expect.poll(() => text(page.locator('[data-testid=tag-detail-e2e_edit_flag] h3'))).toMatch(/v2/);
    await page.click('[data-testid=submit-tag]');
    await expect.poll(() => text(page.locator('[data-testid=tag-detail-e2e_edit_flag] .badge').first())).toBe('IN_REVIEW');
    const { catalog: after } = await as('steward')('{ catalog { tags { key status version definition } } }');
    const edited = after.tags.find((t: { key: string }) => t.key === 'e2e_edit_flag');
    expect(edited).toMatchObject({ status: 'IN_REVIEW', version: 2 });
    // The builder keeps its leaf in an and-group: the same condition.
    expect(edited.definition.rule).toEqual({ and: [{ tag: 'dormant_90d', op: 'EQ', values: ['false'] }] });
    await clean(watched, 'stewards edit draft');
  });

  it('monitors: an operator creates one with the form; it waits for another operator’s review (its author is refused) before it is evaluated', async () => {
    const watched = await signIn('operator');
    const { page } = watched;
    await open(page, 'workbench');
    await page.click('[data-testid=new-monitor]');
    const form = page.getByTestId('monitor-form');
    // Validated as typed: a seasonal baseline of 13 periods is refused before it is sent.
    await form.getByTestId('monitor-seasonal').check();
    await form.getByTestId('monitor-periods').fill('13');
    await expect.poll(() => text(form.getByTestId('monitor-problems'))).toMatch(/1 to 12/);
    await form.getByTestId('monitor-threshold').check();
    await form.getByTestId('monitor-key').fill('e2e_purchase_floor');
    await form.getByTestId('monitor-title').fill('Purchases above 1 CNY');
    await form.getByTestId('monitor-metric').selectOption('purchase_amount');
    await form.getByTestId('monitor-schedule').selectOption('MONTHLY');
    await form.getByTestId('monitor-above').fill('1');
    await form.getByTestId('monitor-explain-by').selectOption(['customer.channel']);
    await form.getByTestId('save-monitor').click();
    const review = page.getByTestId('monitor-review-e2e_purchase_floor');
    await expect.poll(() => text(review.locator('.badge').first()), { timeout: 30_000 }).toBe('IN_REVIEW');
    const drafted = (await as('operator')('{ monitors(includeDrafts: true) { key status version condition explainBy schedule metric } }')).monitors.find(
      (m: { key: string }) => m.key === 'e2e_purchase_floor',
    );
    expect(drafted).toEqual({
      key: 'e2e_purchase_floor',
      status: 'IN_REVIEW',
      version: 1,
      condition: { kind: 'THRESHOLD', above: 1 },
      explainBy: ['customer.channel'],
      schedule: 'MONTHLY',
      metric: 'purchase_amount',
    });
    expect((await as('analyst')('{ monitors { key } }')).monitors.map((m: { key: string }) => m.key)).not.toContain('e2e_purchase_floor');
    // Its author may not approve it: the server's message is shown.
    await review.getByTestId('approve-monitor-e2e_purchase_floor').click();
    const refused = await post(server.keys.operator, 'mutation { approveMonitor(key: "e2e_purchase_floor", expectedVersion: 1) { status } }');
    await expect.poll(() => text(review.locator('.action [role=alert]'))).toBe(`FORBIDDEN: ${refused.errors?.[0]?.message}`);
    expect(watched.take().every((e) => /status of 403/.test(e))).toBe(true);

    const second = await signIn('operator2');
    await open(second.page, 'workbench');
    const pending = second.page.getByTestId('monitor-review-e2e_purchase_floor');
    await pending.locator('text=A new monitor: no version was published yet.').waitFor();
    await pending.scrollIntoViewIfNeeded();
    await screenshot(second.page, 'monitors-review');
    await pending.getByTestId('approve-monitor-e2e_purchase_floor').click();
    await expect
      .poll(() => text(second.page.locator('[data-testid=monitors] tr[data-monitor=e2e_purchase_floor] .badge')), { timeout: 30_000 })
      .toBe('PUBLISHED');
    await clean(second, 'monitor review');
    const { monitorHistory } = await as('analyst')('{ monitorHistory(key: "e2e_purchase_floor") { action actor } }');
    expect(monitorHistory).toEqual([
      { action: 'create', actor: 'e2e-operator' },
      { action: 'submit', actor: 'e2e-operator' },
      { action: 'approve', actor: 'e2e-operator-2' },
    ]);
    await as('operator2')('mutation { runMonitors { ran } }');
    const { monitors } = await as('analyst')('{ monitors { key status evaluations(first: 1) { fired } } }');
    expect(monitors.find((m: { key: string }) => m.key === 'e2e_purchase_floor')).toEqual({
      key: 'e2e_purchase_floor',
      status: 'PUBLISHED',
      evaluations: [{ fired: true }],
    });
  });

  it('links every funnel, comparison and attribution-tree number to its governed definition and the plan that produced it', async () => {
    const { dashboards } = await as('analyst')('{ dashboards { key tiles { key kind query } } }');
    const flow = dashboards.find((d: { key: string }) => d.key === 'basic_flow') as { tiles: { key: string; kind: string; query: Record<string, unknown> }[] };
    const funnelTile = flow.tiles.find((t) => t.kind === 'FUNNEL');
    expect(funnelTile).toBeDefined();
    const watched = await signIn('analyst');
    const { page } = watched;
    await open(page, 'cockpit', '?dashboard=basic_flow');
    const stepLink = page.getByTestId(`tile-${funnelTile?.key}-step-1`);
    await shown(page, `[data-testid="tile-${funnelTile?.key}-step-1"]`, 'attached');
    expect(await stepLink.getAttribute('href')).toBe(await page.getByTestId(`tile-${funnelTile?.key}-definition`).getAttribute('href'));
    await page.getByTestId(`tile-${funnelTile?.key}-definition`).click();
    await shown(page, `[data-testid=definition-funnel-${funnelTile?.query.funnel}]`);
    const plan = JSON.parse(await page.locator('[data-testid=definition-plan] textarea').inputValue());
    expect(plan).toEqual(funnelTile?.query);
    const { funnels } = await as('analyst')('{ funnels { key steps { event } } }');
    const defined = funnels.find((f: { key: string }) => f.key === funnelTile?.query.funnel);
    expect(await page.locator(`[data-testid=definition-funnel-${defined.key}] ol li`).count()).toBe(defined.steps.length);
    await clean(watched, 'funnel definition');
    await screenshot(page, 'definition-funnel');

    // A comparison number: the dimension it counts and the comparison's input.
    const rule = { tag: 'dormant_90d', op: 'EQ', values: ['true'] };
    await open(page, 'audiences', `?rule=${encodeURIComponent(JSON.stringify(rule))}`);
    await page.getByTestId('run-comparison').click();
    const link = page.locator('[data-testid^="comparison-target-customer.channel="]').first();
    await link.waitFor();
    await link.click();
    await shown(page, '[data-testid="definition-dimension-customer.channel"]');
    expect(JSON.parse(await page.locator('[data-testid=definition-plan] textarea').inputValue())).toEqual({
      target: { rule },
      reference: { all: true },
      features: ['customer.channel'],
    });
    await clean(watched, 'comparison definition');

    // A tree node's numbers: the feature it splits on, the tree's input and the node.
    // A purchase in 90 days, explained by dormancy (a tag) and dimensions, as in the insight test.
    await open(page, 'audiences');
    const tree = page.locator('section[aria-label="Attribution tree"]');
    await tree.locator('select[aria-label="Condition kind"]').first().selectOption('aggregate');
    await tree.locator('select[aria-label=Member]').first().selectOption('transaction.purchase_amount');
    await tree.locator('label:has-text("days") input').first().fill('90');
    await tree.locator('select[aria-label=Operator]').first().selectOption('GT');
    await tree.locator('input[aria-label="Values (comma-separated)"]').first().fill('0');
    const treeFeatures = ['customer.channel', 'customer.tag.dormant_90d', 'customer.risk_level'];
    for (const feature of treeFeatures.slice(1)) await tree.locator(`label:has-text("${feature}") input`).first().check();
    await tree.getByTestId('run-tree').click();
    await shown(page, '[data-testid=attribution-tree] li');
    const { attributionTree } = await as('analyst')('query($i: AttributionTreeInput!) { attributionTree(input: $i) { nodes { id feature rule } } }', {
      i: {
        population: { all: true },
        goal: { aggregate: { measure: 'transaction.purchase_amount', window: { days: 90 } }, op: 'GT', values: ['0'] },
        features: treeFeatures,
        maxDepth: 3,
        minNodeCustomers: 100,
      },
    });
    const split = attributionTree.nodes.find((n: { feature: string | null }) => n.feature !== null);
    expect(split, JSON.stringify(attributionTree.nodes)).toBeDefined();
    await page.getByTestId(`tree-node-${split.id}`).click();
    const kind = split.feature.startsWith('customer.tag.') ? `tag-${split.feature.slice('customer.tag.'.length)}` : `dimension-${split.feature}`;
    await shown(page, `[data-testid="definition-${kind}"]`);
    const treePlan = JSON.parse(await page.locator('[data-testid=definition-plan] textarea').inputValue());
    expect(treePlan.node).toEqual({ id: split.id, rule: split.rule });
    expect(treePlan.input.features).toEqual(treeFeatures);
    await clean(watched, 'tree definition');
  });

  it('asks again for a tile the analytics lane refused (RATE_LIMITED with Retry-After), saying so meanwhile, and then shows it', async () => {
    const { dashboards } = await as('analyst')('{ dashboards { key tiles { key kind query } } }');
    const flow = dashboards.find((d: { key: string }) => d.key === 'basic_flow') as { tiles: { key: string; kind: string; query: Record<string, unknown> }[] };
    const funnelTile = flow.tiles.find((t) => t.kind === 'FUNNEL' && !t.query.groupBy) as { key: string; query: Record<string, unknown> };
    const { funnel } = await as('analyst')('query($i: FunnelInput!) { funnel(input: $i) { groups { steps { customers } } } }', { i: funnelTile.query });
    const watched = await signIn('analyst');
    const { page } = watched;
    await settled(page);
    await page.goto('about:blank');
    // Every slot of the server's lane taken and every queue place filled: the tiles' requests are refused at once.
    const { concurrency, queue } = DEFAULT_ANALYTICS_CAPACITY;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Queued works the gate holds past the queue timeout are refused themselves: that is expected here.
    const held = Array.from({ length: concurrency + queue }, () => server.app.analytics.run(() => gate).catch(() => undefined));
    const tile = page.getByTestId(`tile-${funnelTile.key}`);
    try {
      await expect.poll(() => server.app.analytics.load()).toEqual({ running: concurrency, waiting: queue });
      await page.goto(`${server.base}/#/cockpit?dashboard=basic_flow`);
      // The refused tile says it waits and why, still loading, with no error shown.
      const waiting = tile.getByTestId('load-retrying');
      await waiting.waitFor({ timeout: 60_000 });
      expect(await waiting.getAttribute('data-code')).toBe('RATE_LIMITED');
      expect(await text(waiting)).toMatch(/^The server is busy \(RATE_LIMITED\); asking again in [1-9]\d* s \(retry [1-9]\d*\)$/);
      expect(await tile.locator('[role=alert]').count()).toBe(0);
      expect(await tile.getByText('Loading…').count()).toBe(1);
    } finally {
      release();
      await Promise.all(held);
    }
    // Asked again after Retry-After, the tile shows the funnel as the API answers it.
    await tile.getByTestId(`tile-${funnelTile.key}-step-1`).waitFor({ state: 'attached', timeout: 90_000 });
    await settled(page);
    const cells = tile.locator('td[data-value]');
    expect((await cells.evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value')))).map(Number)).toEqual(
      funnel.groups[0].steps.map((step: { customers: number }) => step.customers),
    );
    expect(await page.locator('.tile [role=alert]').allTextContents()).toEqual([]);
    expect(await page.getByTestId('load-retrying').count()).toBe(0);
    // The refusals reached the browser as HTTP 429; nothing else went wrong on the page.
    expect(watched.takeRetryable().length).toBeGreaterThan(0);
    await clean(watched, 'cockpit after refused tiles');
  }, 240_000);

  it('shows the template dashboards’ Chinese descriptions in zh-CN, and the demo’s goals with the contribution of each child goal', async () => {
    const { dashboards } = await as('admin')('{ dashboards { key description descriptionZh } }');
    const watched = await signIn('admin');
    const { page } = watched;
    await open(page, 'cockpit');
    await page.selectOption('.who select', 'zh-CN');
    for (const d of dashboards as { key: string; description: string; descriptionZh: string | null }[]) {
      expect(d.descriptionZh, d.key).toMatch(/[\u4e00-\u9fff]/);
      await open(page, 'cockpit', `?dashboard=${d.key}`);
      await expect.poll(() => text(page.getByTestId('dashboard-description'))).toBe(d.descriptionZh);
    }
    await page.selectOption('.who select', 'en');

    // The demo's goals (as npm start creates them): the last complete quarter and its months.
    const { goals } = await as('admin')(
      '{ goals(keys: ["demo_purchase_quarter"]) { key target actual progress period { from to } children { key actual contribution } } }',
    );
    const [quarter] = goals;
    expect(quarter.period).toEqual({ from: '2026-07-01', to: '2026-10-01' });
    expect(quarter.children).toHaveLength(3);
    // Months partition the quarter: their contributions add up to the whole.
    expect(quarter.children.reduce((s: number, c: { contribution: number }) => s + c.contribution, 0)).toBeCloseTo(1, 9);
    // Each month's target: 5 % above the same month of the quarter before, from the data itself.
    const { rows } = await sql<{
      month: string;
      total: string;
    }>`SELECT to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month, SUM(amount)::text AS total
      FROM wealth.transactions WHERE txn_type = 'purchase' AND status = 'succeeded'
        AND occurred_at >= TIMESTAMP '2026-04-01' AT TIME ZONE 'Asia/Shanghai' AND occurred_at < TIMESTAMP '2026-07-01' AT TIME ZONE 'Asia/Shanghai'
      GROUP BY 1 ORDER BY 1`.execute(server.database.db);
    const { goals: children } = await as('admin')(
      '{ goals(keys: ["demo_purchase_2026_07", "demo_purchase_2026_08", "demo_purchase_2026_09"]) { key target } }',
    );
    expect(children.map((c: { target: number }) => c.target)).toEqual(rows.map((r) => Math.round(Number(r.total) * 1.05)));
    expect(quarter.target).toBe(children.reduce((s: number, c: { target: number }) => s + c.target, 0));
    await open(page, 'cockpit', '?dashboard=goal_tracking');
    const box = page.getByTestId('goal-demo_purchase_quarter-children');
    await box.waitFor();
    for (const child of quarter.children as { key: string; contribution: number }[])
      expect(Number(await box.getByTestId(`goal-demo_purchase_quarter-child-${child.key}-contribution`).getAttribute('data-value'))).toBe(child.contribution);
    expect(await text(page.getByTestId('goal-demo_purchase_quarter-progress'))).toBe(
      new Intl.NumberFormat('en', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(quarter.progress),
    );
    await clean(watched, 'cockpit goals');
    await screenshot(page, 'cockpit-goals');
  });

  it('runs an explorer query from a link: table equal to the API’s rows, chart, plan, CSV', async () => {
    const query = {
      metrics: ['purchase_amount', 'purchasers'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
      timeRange: { from: '2026-01-01', to: '2026-07-01' },
    };
    const { metrics } = await as('analyst')('query($q: MetricQueryInput!) { metrics(query: $q) { rows } }', {
      q: { ...query, orderBy: [{ field: 'metric_time', direction: 'ASC' }], limit: 5000 },
    });
    const watched = await signIn('analyst');
    const { page } = watched;
    await open(page, 'explorer', `?q=${encodeURIComponent(JSON.stringify(query))}`);
    await page.waitForSelector('[data-testid=result-table] tbody tr');
    const shown = await page
      .locator('[data-testid=result-table] td[data-column=purchase_amount]')
      .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-value')));
    expect(shown.map(Number)).toEqual(metrics.rows.map((r: { purchase_amount: number }) => r.purchase_amount));
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    await page.click('summary:has-text("Plan")');
    expect(await page.locator('textarea[aria-label=Plan]').inputValue()).toContain('purchase_amount');
    const download = page.waitForEvent('download');
    await page.click('[data-testid=download-csv]');
    const csv = await (await download).createReadStream();
    const text = await new Promise<string>((resolve) => {
      let data = '';
      csv.on('data', (chunk) => (data += chunk));
      csv.on('end', () => resolve(data));
    });
    expect(text.split('\r\n')[0]).toBe('metric_time__month,purchase_amount,purchasers');
    expect(text.split('\r\n')).toHaveLength(metrics.rows.length + 2);
    await clean(watched, 'explorer result');
    await screenshot(page, 'explorer-result');
  });

  it('steward flow: builds a rule with validation as typed, previews it (equal to the API), saves, submits; a second key approves', async () => {
    const steward = await signIn('steward');
    const page = steward.page;
    await open(page, 'stewards');
    await page.click('[data-testid=new-tag]');
    await page.fill('[data-testid=new-tag-key]', 'e2e_dormant_flag');
    await page.fill('[data-testid=new-tag-description]', 'Dormant customers, drafted in the console');
    const form = page.locator('form.new-tag');
    await form.locator('select[aria-label=Member]').first().selectOption('dormant_90d');
    // Validation as you type: the leaf has no value yet.
    await expect.poll(() => text(form.getByTestId('rule-problems'))).toMatch(/needs at least one value/);
    expect(await form.getByTestId('save-tag').isDisabled()).toBe(true);
    await form.locator('input[aria-label="Values (comma-separated)"]').first().fill('true');
    await expect.poll(() => text(form.getByTestId('rule-problems'))).toBe('');
    const rule = { and: [{ tag: 'dormant_90d', op: 'EQ', values: ['true'] }] };
    const { tagPreview } = await as('steward')('query($r: RuleInput) { tagPreview(rule: $r, kind: BOOLEAN) { customers coverage } }', { r: rule });
    await expect.poll(() => text(page.getByTestId('preview-customers')), { timeout: 30_000 }).toBe(new Intl.NumberFormat('en').format(tagPreview.customers));
    await screenshot(page, 'stewards-new-tag');
    await form.getByTestId('save-tag').click();
    await page.waitForSelector('[data-testid=tag-detail-e2e_dormant_flag]');
    await page.click('[data-testid=submit-tag]');
    await expect.poll(() => text(page.locator('[data-testid=tag-detail-e2e_dormant_flag] .badge').first())).toBe('IN_REVIEW');
    await clean(steward, 'steward flow');

    const approver = await signIn('approver');
    await open(approver.page, 'stewards');
    await approver.page.click('[data-testid=review-queue] button:has-text("e2e_dormant_flag")');
    await approver.page.waitForSelector('text=A new tag: no version was published');
    await screenshot(approver.page, 'stewards-review');
    await approver.page.click('[data-testid=approve-tag]');
    await expect.poll(() => text(approver.page.locator('[data-testid=tag-detail-e2e_dormant_flag] .badge').first())).toBe('PUBLISHED');
    expect(await text(approver.page.getByTestId('tag-history'))).toMatch(/approve/);
    await clean(approver, 'approver review');
    const { catalog } = await as('admin')('{ catalog { tags { key status } } }');
    expect(catalog.tags.find((t: { key: string }) => t.key === 'e2e_dormant_flag')?.status).toBe('PUBLISHED');
  });

  it('shows the server’s message when it refuses an action (approving one’s own submission)', async () => {
    await as('admin')('mutation($i: CreateTagInput!) { createTag(input: $i) { version } }', {
      i: { key: 'e2e_self_review', kind: 'BOOLEAN', rule: { tag: 'dormant_90d', op: 'EQ', values: ['false'] } },
    });
    await as('admin')('mutation { submitTag(key: "e2e_self_review", expectedVersion: 1) { status } }');
    const watched = await signIn('admin');
    await open(watched.page, 'stewards');
    await watched.page.click('[data-testid=review-queue] button:has-text("e2e_self_review")');
    await watched.page.click('[data-testid=approve-tag]');
    const refused = await post(server.keys.admin, 'mutation { approveTag(key: "e2e_self_review", expectedVersion: 1) { status } }');
    const message = refused.errors?.[0]?.message ?? '';
    expect(message).not.toBe('');
    await expect.poll(() => text(watched.page.locator('.action [role=alert]'))).toBe(`FORBIDDEN: ${message}`);
    expect(watched.take().every((e) => /status of 403/.test(e))).toBe(true);
  });

  it('insight: comparison rows (suppressed cells kept as suppressed) and attribution tree equal to the API; a tree node opens as an audience', async () => {
    const rule = { and: [{ tag: 'dormant_90d', op: 'EQ', values: ['true'] }] };
    const features = ['customer.channel', 'customer.risk_level'];
    const { audienceComparison } = await as('analyst')(
      'query($r: RuleInput!, $f: [String!]!) { audienceComparison(target: { rule: $r }, reference: { all: true }, features: $f) { values { feature value suppressed qValue } } }',
      { r: rule, f: features },
    );
    // A purchase in 90 days, explained by dormancy (a tag) and dimensions.
    const goal = { aggregate: { measure: 'transaction.purchase_amount', window: { days: 90 } }, op: 'GT', values: ['0'] };
    const treeFeatures = ['customer.channel', 'customer.tag.dormant_90d', 'customer.risk_level'];
    const watched = await signIn('analyst');
    const { page } = watched;
    await open(page, 'audiences');
    const builder = page.locator('section[aria-label="Audience builder"]');
    await builder.locator('select[aria-label=Member]').first().selectOption('dormant_90d');
    await builder.locator('input[aria-label="Values (comma-separated)"]').first().fill('true');
    const comparison = page.locator('section[aria-label="Comparison against all customers"]');
    await comparison.locator('label:has-text("customer.risk_level") input').first().check();
    await comparison.getByTestId('run-comparison').click();
    await page.waitForSelector('[data-testid=comparison-values] tbody tr');
    expect(await page.locator('[data-testid=comparison-values] tbody tr').count()).toBe(audienceComparison.values.length);
    const suppressed = audienceComparison.values.filter((v: { suppressed: boolean }) => v.suppressed).length;
    expect(await page.locator('[data-testid=comparison-values] tbody tr.suppressed-row').count()).toBe(suppressed);
    const tree = page.locator('section[aria-label="Attribution tree"]');
    await tree.locator('select[aria-label="Condition kind"]').first().selectOption('aggregate');
    await tree.locator('select[aria-label=Member]').first().selectOption('transaction.purchase_amount');
    await tree.locator('label:has-text("days") input').first().fill('90');
    await tree.locator('select[aria-label=Operator]').first().selectOption('GT');
    await tree.locator('input[aria-label="Values (comma-separated)"]').first().fill('0');
    for (const feature of treeFeatures.slice(1)) await tree.locator(`label:has-text("${feature}") input`).first().check();
    await tree.getByTestId('run-tree').click();
    await page.waitForSelector('[data-testid=attribution-tree] li');
    const { attributionTree } = await as('analyst')('query($i: AttributionTreeInput!) { attributionTree(input: $i) { nodes { id rule customers } } }', {
      i: { population: { all: true }, goal, features: treeFeatures, maxDepth: 3, minNodeCustomers: 100 },
    });
    expect(await page.locator('[data-testid=attribution-tree] li').count()).toBe(attributionTree.nodes.length);
    const node = attributionTree.nodes.find((n: { rule: unknown }) => n.rule !== null);
    expect(node, JSON.stringify(attributionTree.nodes)).toBeDefined();
    await page.click(`[data-testid="tree-open-${node.id}"]`);
    await expect.poll(async () => JSON.parse(await builder.locator('.rule-json textarea').inputValue())).toEqual(node.rule);
    await clean(watched, 'insight');
    await screenshot(page, 'insight');
  });

  it('operator flow: audience (live size, saved) → strategy with an experiment → approval by a second operator → results equal to the API → next audience', async () => {
    const operator = await signIn('operator');
    const page = operator.page;
    await open(page, 'audiences');
    const builder = page.locator('section[aria-label="Audience builder"]');
    await builder.locator('select[aria-label=Member]').first().selectOption('dormant_90d');
    await builder.locator('input[aria-label="Values (comma-separated)"]').first().fill('true');
    const rule = { and: [{ tag: 'dormant_90d', op: 'EQ', values: ['true'] }] };
    const { audienceComparison } = await as('operator')(
      'query($r: RuleInput!) { audienceComparison(target: { rule: $r }, reference: { all: true }, features: ["customer.channel"]) { targetCustomers } }',
      { r: rule },
    );
    await expect
      .poll(() => text(page.getByTestId('live-size')), { timeout: 30_000 })
      .toBe(new Intl.NumberFormat('en').format(audienceComparison.targetCustomers));
    await page.fill('[data-testid=audience-key]', 'e2e_dormant');
    await page.click('[data-testid=save-audience]');
    await page.waitForSelector('[data-testid=audience-e2e_dormant]');
    const { audience } = await as('operator')('{ audience(key: "e2e_dormant") { size } }');
    expect(Number(await page.getByTestId('audience-size').getAttribute('data-value'))).toBe(audience.size);
    await page.click('[data-testid=show-members]');
    await expect.poll(() => page.locator('[data-testid=members] li').count()).toBe(Math.min(50, audience.size));
    await clean(operator, 'audience saved');
    await screenshot(page, 'audiences-saved');

    await page.click('[data-testid=audience-to-strategy]');
    await settled(page);
    expect(await page.getByTestId('strategy-audience').inputValue()).toBe('e2e_dormant');
    await page.fill('[data-testid=experiment-key]', 'e2e_copy');
    await page.selectOption('[data-testid=experiment-placement]', 'home_banner');
    await page.selectOption('[data-testid=variant-0-content]', 'banner_fund_generic');
    await page.selectOption('[data-testid=variant-1-content]', 'banner_fund_social_proof');
    await page.click('[data-testid=save-experiment]');
    await page.click('[data-testid=submit-EXPERIMENT-e2e_copy]');
    await page.fill('[data-testid=strategy-key]', 'e2e_strategy');
    await page.selectOption('[data-testid=strategy-placement]', 'home_banner');
    await page.selectOption('[data-testid=strategy-mode]', 'experiment');
    await page.selectOption('[data-testid=strategy-experiment]', 'e2e_copy');
    await page.click('[data-testid=save-strategy]');
    await page.click('[data-testid=submit-STRATEGY-e2e_strategy]');
    await page.waitForSelector('[data-testid=queue-STRATEGY-e2e_strategy] .badge:has-text("IN_REVIEW")');
    await clean(operator, 'strategy and experiment submitted');

    const second = await signIn('operator2');
    await open(second.page, 'workbench');
    // The experiment first (the strategy runs it), each gone from the queue once approved.
    for (const item of ['EXPERIMENT-e2e_copy', 'STRATEGY-e2e_strategy']) {
      await second.page.click(`[data-testid=approve-${item}]`);
      await expect.poll(() => second.page.locator(`[data-testid=queue-${item}]`).count(), { timeout: 30_000 }).toBe(0);
    }
    await clean(second, 'second operator approvals');

    // The app decides for the audience's members (each decision logs an exposure), and some convert.
    const members = (await as('admin')('{ audience(key: "e2e_dormant") { members(first: 60) { edges { node { id } } } } }')).audience.members.edges.map(
      (e: { node: { id: string } }) => e.node.id,
    );
    const exposed: string[] = [];
    for (const id of members) {
      const { decide } = await as('app')(
        'mutation($c: String!) { decide(customerId: $c, placements: ["home_banner"], context: { channel: "app" }) { experiment } }',
        { c: id },
      );
      if (decide[0].experiment === 'e2e_copy') exposed.push(id);
    }
    expect(exposed.length).toBeGreaterThan(10);
    const at = new Date(Date.now() + 1000).toISOString();
    const tracked = await as('app')('mutation($e: [TrackEventInput!]!) { trackEvents(events: $e) { accepted rejected { message } } }', {
      e: exposed
        .filter((_, i) => i % 3 === 0)
        .map((id) => ({
          eventId: `e2e-buy-${id}`,
          name: 'purchase_success',
          customerId: id,
          occurredAt: at,
          channel: 'app',
          productId: 'P0001',
          properties: { amount: 1000 },
        })),
    });
    expect(tracked.trackEvents.rejected).toEqual([]);

    await open(page, 'workbench');
    await page.click('[data-testid=open-results-e2e_copy]');
    await page.waitForSelector('[data-testid=variant-results]');
    const { experimentResults } = await as('operator')(
      '{ experimentResults(key: "e2e_copy") { variants { key exposures conversions rate relativeLift pValue } } }',
    );
    for (const variant of experimentResults.variants) {
      const row = page.locator(`[data-testid=variant-results] tr[data-variant=${variant.key}]`);
      for (const field of ['exposures', 'conversions', 'rate', 'relativeLift', 'pValue'] as const) {
        const shown = await row.locator(`td[data-field=${field}]`).getAttribute('data-value');
        expect(shown === '' ? null : Number(shown), `${variant.key} ${field}`).toBe(variant[field]);
      }
    }
    expect(experimentResults.variants.reduce((n: number, v: { exposures: number }) => n + v.exposures, 0)).toBe(exposed.length);
    await clean(operator, 'experiment results');
    await screenshot(page, 'experiment-results');
    await page.click('[data-testid=next-audience]');
    await page.waitForSelector('[data-testid=audience-e2e_dormant]');
    await clean(operator, 'next audience');
  });

  it('keeps every number of an experiment with a sample ratio mismatch on screen beside the warning', async () => {
    const db = server.database.db;
    const customers = (await db.selectFrom('wealth.customers').select('customer_id').orderBy('customer_id').limit(120).execute()).map((r) => r.customer_id);
    await db
      .insertInto('wealth.app_events')
      .values(
        customers.map((c, i) => ({
          event_id: `srm-${c}`,
          customer_id: c,
          event_name: 'placement_impression',
          occurred_at: '2026-10-20T02:00:00Z',
          channel: 'app',
          placement_id: 'home_banner',
          properties: JSON.stringify({ experiment: 'home_banner_copy', variant: i % 4 === 0 ? 'social_proof' : 'control', decision_id: `srm-${c}` }),
        })),
      )
      .execute();
    const { experimentResults } = await as('analyst')('{ experimentResults(key: "home_banner_copy") { variants { key exposures } srm { flagged } } }');
    expect(experimentResults.srm.flagged).toBe(true);
    const watched = await signIn('analyst');
    await open(watched.page, 'workbench', '?experiment=home_banner_copy');
    await watched.page.waitForSelector('[data-testid=srm-warning]');
    for (const variant of experimentResults.variants) {
      const cell = watched.page.locator(`[data-testid=variant-results] tr[data-variant=${variant.key}] td[data-field=exposures]`);
      expect(Number(await cell.getAttribute('data-value'))).toBe(variant.exposures);
      expect(await cell.isVisible()).toBe(true);
    }
    await clean(watched, 'results with SRM');
  });
});
