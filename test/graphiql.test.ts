import { readFileSync } from 'node:fs';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { GRAPHIQL_CSP } from '../api/graphiql.ts';
import { GRAPHIQL_EXAMPLES } from '../api/graphiql-examples.ts';
import { schema } from '../resolvers/schema.ts';
import type { Role } from '../services/authorization.ts';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

interface PageConfig {
  endpoint: string;
  tabs: { query: string; variables: string | null; headers: string }[];
}

/** The script and stylesheet addresses a page loads, and its inline scripts. */
function pageAssets(html: string): { urls: string[]; inline: { type: string | undefined; body: string }[] } {
  const urls = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
  const inline = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    .filter((m) => !/\bsrc=/.test(m[1] as string))
    .map((m) => ({ type: /\btype="([^"]*)"/.exec(m[1] as string)?.[1], body: m[2] as string }));
  return { urls, inline };
}

/**
 * A browser opening /graphql gets GraphiQL with everything served by this server (no CDN),
 * one example tab per user group that runs as written with a key of that group, and a
 * headers editor waiting for the key; in production the page is off unless enabled.
 */
describe.each(await testEngines())('GraphiQL on %s', (engine) => {
  let server: DemoServer<Role>;
  const gql = graphqlClient(() => server.base);

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 200,
      seed: 5,
      app: { graphiql: true },
      keys: {
        analyst: ['ide-analyst', 'analyst'],
        app: ['ide-app', 'app'],
        steward: ['ide-steward', 'steward'],
        approver: ['ide-approver', 'approver'],
        operator: ['ide-operator', 'operator'],
        admin: ['ide-admin', 'admin'],
      },
    });
    await gql.ok(server.keys.operator, 'mutation { materializeTags { status } }');
  });
  afterAll(async () => server.close());

  it('serves the page to a browser, with a CSP and every asset from this server', async () => {
    const page = await fetch(`${server.base}/graphql`, { headers: HTML });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
    expect(GRAPHIQL_CSP).toContain("script-src 'self';");
    expect(page.headers.get('x-request-id')).toBeTruthy();
    const html = await page.text();
    const { urls, inline } = pageAssets(html);
    expect(urls.length).toBe(5);
    for (const url of urls) {
      expect(url).toMatch(/^\/[^/]/);
      const resolved = new URL(url, server.base);
      expect(resolved.origin).toBe(server.base);
      const asset = await fetch(resolved);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect((await asset.text()).length).toBeGreaterThan(100);
    }
    // Nothing inline runs: the one inline block is JSON data the start script reads.
    expect(inline.map((s) => s.type)).toEqual(['application/json']);
    const bundle = readFileSync(new URL('../node_modules/graphiql/graphiql.min.js', import.meta.url), 'utf8');
    expect(await (await fetch(`${server.base}/graphiql/assets/graphiql.min.js`)).text()).toBe(bundle);
  });

  it("opens one tab per user group whose operations run as written with that group's key", async () => {
    const html = await (await fetch(`${server.base}/graphql`, { headers: HTML })).text();
    const config = JSON.parse(pageAssets(html).inline[0]?.body ?? '') as PageConfig;
    expect(config.endpoint).toBe('/graphql');
    expect(config.tabs.map((t) => t.query)).toEqual(GRAPHIQL_EXAMPLES.map((e) => e.query));
    for (const tab of config.tabs) expect(JSON.parse(tab.headers)).toEqual({ Authorization: 'Bearer <paste a key>' });
    for (const example of GRAPHIQL_EXAMPLES) {
      const document = parse(example.query);
      expect(validate(schema, document), example.title).toEqual([]);
      const role = example.roles[0] as Role;
      for (const definition of document.definitions) {
        if (definition.kind !== 'OperationDefinition') continue;
        const response = await fetch(`${server.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${server.keys[role]}` },
          body: JSON.stringify({ query: example.query, operationName: definition.name?.value }),
        });
        const body = (await response.json()) as { errors?: unknown[] };
        expect(body.errors, `${example.title}: ${definition.name?.value}`).toBeUndefined();
      }
    }
  });

  it('keeps GET queries answering JSON, also to browsers that pass a query', async () => {
    const query = encodeURIComponent('{ version }');
    for (const accept of ['application/json', HTML.accept]) {
      const response = await fetch(`${server.base}/graphql?query=${query}`, { headers: { accept, 'apollo-require-preflight': 'true' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { version: expect.any(String) } });
    }
  });

  it('is off in production unless enabled', async () => {
    const production = await createApp(server.database, bundledDomain(), { dev: false, maxBodyBytes: 1_000, graphiql: false });
    try {
      const base = `http://127.0.0.1:${await production.listen(0)}`;
      const page = await fetch(`${base}/graphql`, { headers: HTML });
      expect(page.status).toBe(400);
      expect(await page.text()).toMatch(/Cross-Site Request Forgery/);
      expect((await fetch(`${base}/graphiql/assets/graphiql.min.js`)).status).toBe(404);
    } finally {
      await production.close();
    }
    const { loadConfig } = await import('../api/config.ts');
    expect(loadConfig({}).graphiql).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', STRATA_GRAPHIQL: '1' }).graphiql).toBe(true);
  });
});
