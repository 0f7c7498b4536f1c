import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as client from '../codegen/generated/strata-client.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';

/**
 * The typed client as an app team uses it, outside the repository: README's example and the
 * generated `strata-client.ts` are copied into a fresh folder under the system's temp folder,
 * with a package.json and a strict tsconfig of their own. Its node_modules holds only the dev
 * tools it declares (typescript and @types/node, linked from this repository's install as
 * stand-ins for `npm install -D`, since tests have no network), is removed after the type
 * check, and the program then runs with plain `node` and nothing to import: compiled by tsc,
 * and as TypeScript where the running Node strips types.
 */

const REPO = resolve(import.meta.dirname, '..');
const run = promisify(execFile);

/** The first ```ts block of README's "Typed client" section. */
function readmeExample(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Typed client'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('README has no ```ts block under "## Typed client"');
  return match[1];
}

const versionOf = (name: string): string => (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let folder: string;

/** An app's folder outside the repository, type-checked and compiled: the program is `dist/client.js`. */
async function buildApp(): Promise<string> {
  const app = mkdtempSync(join(tmpdir(), 'strata-client-'));
  expect(relative(REPO, app).startsWith('..')).toBe(true);
  const tools = ['typescript', '@types/node'];
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ private: true, type: 'module', devDependencies: Object.fromEntries(tools.map((t) => [t, versionOf(t)])) }),
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        rewriteRelativeImportExtensions: true,
        types: ['node'],
        outDir: 'dist',
      },
      include: ['*.ts'],
    }),
  );
  copyFileSync(join(REPO, 'codegen/generated/strata-client.ts'), join(app, 'strata-client.ts'));
  writeFileSync(join(app, 'client.ts'), readmeExample());
  for (const tool of tools) {
    mkdirSync(dirname(join(app, 'node_modules', tool)), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', tool), join(app, 'node_modules', tool), 'dir');
  }
  try {
    await run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app });
  } catch (error) {
    throw new Error(`tsc refused the example: ${(error as { stdout?: string }).stdout ?? String(error)}`);
  }
  rmSync(join(app, 'node_modules'), { recursive: true });
  return app;
}

beforeAll(async () => {
  folder = await buildApp();
}, 120_000);
afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** Variables for every generated operation, run in this order (CreateAudience before the audience reads). */
function operationVariables(id: string): Record<string, Record<string, unknown>> {
  // Cautious customers: enough of them (and of the others) to seed a lookalike.
  const rule = { tag: 'risk_level', op: 'IN', values: ['C2', 'C3'] };
  return {
    ServerHealthDocument: {},
    ViewerDocument: {},
    CatalogDocument: {},
    MetricsDocument: { query: { metrics: ['purchase_amount', 'purchasers'], groupBy: [{ dimension: 'customer.risk_level' }] } },
    CustomerDocument: { id },
    CustomersDocument: { ids: [id, 'no-such-customer'] },
    CustomerTagDocument: { id, key: 'aum_tier' },
    TrackEventsDocument: {
      events: [{ eventId: `typed-client-${id}`, name: 'app_open', customerId: id, occurredAt: new Date().toISOString(), channel: 'app' }],
    },
    TagPreviewDocument: { rule },
    CreateAudienceDocument: { input: { key: 'typed_client_mass', rule } },
    AudienceDocument: { key: 'typed_client_mass' },
    AudienceMembersDocument: { key: 'typed_client_mass', first: 5 },
    AudienceInsightDocument: { audience: 'typed_client_mass', tags: ['risk_level'] },
    AudienceComparisonDocument: {
      target: { audience: 'typed_client_mass' },
      reference: { all: true },
      features: ['customer.channel', 'customer.tag.aum_tier'],
    },
    AttributionTreeDocument: {
      input: {
        population: { all: true },
        goal: { tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] },
        features: ['customer.channel'],
        maxDepth: 2,
        minNodeCustomers: 20,
      },
    },
    CreateLookalikeAudienceDocument: { input: { key: 'typed_client_lookalike', seed: 'typed_client_mass', size: 20 } },
    DecideDocument: { customerId: id, placements: ['home_banner', 'wealth_mall_top'], channel: 'app' },
    PlacementsDocument: {},
  };
}

// The client does not depend on the engine, and each operation has its own suite on both
// engines: this one runs on PGlite only.
describe('the typed client', () => {
  const engine = 'pglite' as const;
  let server: DemoServer<'operator' | 'app' | 'admin'>;
  const { ok } = graphqlClient(() => server.base);
  const id = 'c000001';

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 200,
      seed: 5,
      keys: { operator: ['ops-client', 'operator'], app: ['mobile-app', 'app'], admin: ['admin-client', 'admin'] },
    });
    await ok(server.keys.operator, 'mutation { materializeTags { status } }');
  });
  afterAll(() => server?.close());

  it("README's example, built outside the repository, prints a customer's tags", async () => {
    const { customer } = (await ok(server.keys.app, client.CustomerDocument.toString(), { id })) as client.CustomerQuery;
    const expected = (customer?.tags ?? []).map((tag) => `${tag.key} ${String(tag.value)}`);
    expect(expected.length).toBeGreaterThan(0);
    const env = { PATH: process.env.PATH ?? '', STRATA_URL: server.base, STRATA_KEY: server.keys.app };
    const programs = [['dist/client.js', id]];
    if ((process.features as { typescript?: unknown }).typescript) programs.push(['client.ts', id]);
    for (const args of programs) {
      const { stdout } = await run(process.execPath, args, { cwd: folder, env });
      expect(stdout.trim().split('\n'), args[0]).toEqual(expected);
    }
  });

  it('reports an error code the server sends', async () => {
    const failed = run(process.execPath, ['dist/client.js', id], {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '', STRATA_URL: server.base, STRATA_KEY: 'sk_wrong' },
    });
    await expect(failed).rejects.toMatchObject({ stderr: expect.stringContaining('UNAUTHENTICATED') });
  });

  it('runs every generated operation against the server', async () => {
    const documents = Object.entries(client).filter(([name]) => name.endsWith('Document'));
    const variables = operationVariables(id);
    expect(documents.map(([name]) => name).sort()).toEqual(Object.keys(variables).sort());
    for (const [name, vars] of Object.entries(variables)) {
      const document = (client as unknown as Record<string, client.TypedDocumentString<unknown, unknown>>)[name];
      const data = await ok(server.keys.admin, String(document), vars);
      expect(
        Object.values(data).every((value) => value !== null),
        name,
      ).toBe(true);
    }
  });
});
