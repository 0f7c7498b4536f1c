import { afterAll, beforeAll, expect, it } from 'vitest';
import { schema } from '../resolvers/schema.ts';
import { rootFieldNames } from '../resolvers/policies.ts';
import { OPERATION_POLICIES, PUBLIC, ROLES, rolesFor, type Action, type Role } from '../services/authorization.ts';
import { createApiKey } from '../store/api-keys.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient, type GqlResponse } from './support/graphql-client.ts';

/**
 * The policy catalogue, exercised: every root query and mutation of the printed schema is
 * called as anonymous, as each role and with a revoked key, and the outcome must be what
 * services/authorization.ts says: allowed callers get data, the others FORBIDDEN (a role
 * that may not) or UNAUTHENTICATED (no or refused credentials), and no data.
 */

type Caller = Role | 'anonymous' | 'revoked';
const CALLERS: readonly Caller[] = ['anonymous', 'revoked', ...ROLES];

interface Sample {
  readonly query: string;
}

const tagInput = (key: string) => ({ key, kind: 'BOOLEAN', description: 'matrix', rule: { dimension: 'customer.age_band', op: 'EQ', values: ['25-34'] } });
const goalInput = (key: string) => ({ key, metric: 'purchase_amount', target: 1000, period: { from: '2026-01-01', to: '2026-04-01' } });
const dashboardInput = (key: string) => ({
  key,
  title: '矩阵',
  titleEn: 'Matrix',
  description: 'matrix',
  tiles: [{ key: 'amount', title: '金额', titleEn: 'Amount', kind: 'METRIC', visualization: 'number', query: { metrics: ['purchase_amount'] } }],
});
const monitorInput = (key: string) => ({ key, title: 'matrix', metric: 'purchase_amount', schedule: 'MONTHLY', condition: { kind: 'THRESHOLD', below: 1 } });
const slug = (caller: Caller) => caller.replace(/[^a-z]/g, '');

await describeEachEngine('the policy catalogue on %s', (engine) => {
  let server: DemoServer<Role>;
  let revoked: string;
  const tokens = {} as Record<Caller, string | null>;
  const { post, ok } = graphqlClient(() => server.base);
  const asAdmin = (query: string, variables?: Record<string, unknown>) => ok(tokens.admin, query, variables);
  const asRole = (role: Role, query: string, variables?: Record<string, unknown>) => ok(tokens[role], query, variables);
  /** A steward-made draft of `key`, optionally submitted and approved by others than the caller. */
  const draft = async (key: string, through: 'draft' | 'submitted' | 'published') => {
    await asRole('steward', 'mutation($i: CreateTagInput!) { createTag(input: $i) { key } }', { i: tagInput(key) });
    if (through === 'draft') return;
    await asRole('steward', 'mutation($k: String!) { submitTag(key: $k, expectedVersion: 1) { status } }', { k: key });
    if (through === 'published') await asRole('approver', 'mutation($k: String!) { approveTag(key: $k, expectedVersion: 1) { status } }', { k: key });
  };

  const SAMPLES: Record<string, Sample> = {
    'Query.version': { query: '{ version }' },
    'Query.health': { query: '{ health { ok } }' },
    'Query.catalog': { query: '{ catalog { metrics { name } } }' },
    'Query.metrics': { query: '{ metrics(query: { metrics: ["purchase_amount"] }) { rows } }' },
    'Query.customer': { query: '{ customer(id: "c000001") { id } }' },
    'Query.customers': { query: '{ customers(ids: ["c000001", "c000002"]) { id } }' },
    'Query.tagPreview': { query: '{ tagPreview(rule: { dimension: "customer.age_band", op: EQ, values: ["25-34"] }) { asOf } }' },
    'Query.tagHistory': { query: '{ tagHistory(key: "matrix_seen") { version } }' },
    'Query.audience': { query: '{ audience(key: "matrix_base") { key } }' },
    'Query.audienceInsight': { query: '{ audienceInsight(audience: "matrix_base", tags: ["aum_tier"]) { tag } }' },
    'Query.audienceComparison': {
      query: '{ audienceComparison(target: { audience: "matrix_base" }, reference: { all: true }, features: ["customer.channel"]) { features { feature } } }',
    },
    'Query.attributionTree': {
      query:
        '{ attributionTree(input: { population: { all: true }, goal: { tag: "risk_level", op: EQ, values: ["C3"] }, features: ["customer.channel"], maxDepth: 1 }) { nodes { id } } }',
    },
    'Query.personalDataReads': { query: '{ personalDataReads(first: 1) { actor } }' },
    'Mutation.createTag': { query: 'mutation($i: CreateTagInput!) { createTag(input: $i) { key } }' },
    'Mutation.updateTag': { query: 'mutation($k: String!) { updateTag(key: $k, expectedVersion: 1, input: { description: "changed" }) { version } }' },
    'Mutation.submitTag': { query: 'mutation($k: String!) { submitTag(key: $k, expectedVersion: 1) { status } }' },
    'Mutation.approveTag': { query: 'mutation($k: String!) { approveTag(key: $k, expectedVersion: 1) { status } }' },
    'Mutation.rejectTag': { query: 'mutation($k: String!) { rejectTag(key: $k, expectedVersion: 1, reason: "no") { status } }' },
    'Mutation.deprecateTag': { query: 'mutation($k: String!) { deprecateTag(key: $k, reason: "old") { status } }' },
    'Mutation.archiveTag': { query: 'mutation($k: String!) { archiveTag(key: $k, reason: "gone") { status } }' },
    'Mutation.materializeTags': { query: 'mutation { materializeTags { runId } }' },
    'Mutation.publishMaterialization': { query: 'mutation($r: Int!) { publishMaterialization(runId: $r) { runId } }' },
    'Mutation.createAudience': { query: 'mutation($i: CreateAudienceInput!) { createAudience(input: $i) { key } }' },
    'Mutation.createLookalikeAudience': { query: 'mutation($i: CreateLookalikeAudienceInput!) { createLookalikeAudience(input: $i) { key quality { auc } } }' },
    'Mutation.trackEvents': { query: 'mutation($e: [TrackEventInput!]!) { trackEvents(events: $e) { accepted } }' },
    'Mutation.createApiKey': { query: 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { token } }' },
    'Mutation.revokeApiKey': { query: 'mutation($n: String!) { revokeApiKey(name: $n) { revoked } }' },
    'Query.viewer': { query: '{ viewer { name role } }' },
    'Query.experimentResults': { query: '{ experimentResults(key: "home_banner_copy") { variants { key exposures } srm { flagged } } }' },
    'Query.goals': { query: '{ goals { key actual progress children { key contribution } } }' },
    'Query.explainMetricChange': {
      query:
        '{ explainMetricChange(input: { metric: "purchase_amount", base: { from: "2026-08-01", to: "2026-09-01" }, current: { from: "2026-09-01", to: "2026-10-01" }, dimensions: ["customer.channel"] }) { change contributions { value share } } }',
    },
    'Query.dashboards': { query: '{ dashboards { key tiles { key kind query } } }' },
    'Query.dashboard': { query: '{ dashboard(key: "basic_flow") { key tiles { query } } }' },
    'Query.dashboardHistory': { query: '{ dashboardHistory(key: "matrix_dashboard") { version } }' },
    'Mutation.saveDashboard': { query: 'mutation($i: DashboardInput!) { saveDashboard(input: $i) { key status } }' },
    'Mutation.submitDashboard': { query: 'mutation($k: String!) { submitDashboard(key: $k, expectedVersion: 1) { status } }' },
    'Mutation.approveDashboard': { query: 'mutation($k: String!) { approveDashboard(key: $k, expectedVersion: 1) { status } }' },
    'Mutation.rejectDashboard': { query: 'mutation($k: String!) { rejectDashboard(key: $k, expectedVersion: 1, reason: "no") { status } }' },
    'Query.monitors': { query: '{ monitors { key schedule firings { value fired } } }' },
    'Mutation.saveMonitor': { query: 'mutation($i: MonitorInput!) { saveMonitor(input: $i) { key version } }' },
    'Query.monitorHistory': { query: '{ monitorHistory(key: "matrix_monitor") { version action } }' },
    'Mutation.submitMonitor': { query: 'mutation($k: String!) { submitMonitor(key: $k, expectedVersion: 1) { status } }' },
    'Mutation.approveMonitor': { query: 'mutation($k: String!) { approveMonitor(key: $k, expectedVersion: 1) { status } }' },
    'Mutation.rejectMonitor': { query: 'mutation($k: String!) { rejectMonitor(key: $k, expectedVersion: 1, reason: "no") { status } }' },
    'Mutation.runMonitors': { query: 'mutation { runMonitors { ran evaluated } }' },
    'Query.funnels': { query: '{ funnels { key windowHours steps { event } } }' },
    'Query.funnel': {
      query: '{ funnel(input: { funnel: "purchase_flow", timeRange: { from: "2026-09-01", to: "2026-10-01" } }) { groups { steps { customers } } } }',
    },
    'Mutation.createGoal': { query: 'mutation($i: CreateGoalInput!) { createGoal(input: $i) { key version } }' },
    'Mutation.updateGoal': { query: 'mutation($k: String!) { updateGoal(key: $k, expectedVersion: 1, input: { target: 2000 }) { version } }' },
    'Query.customerEvents': {
      query: '{ customerEvents(customerId: "c000001", from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z", first: 5) { hasMore } }',
    },
    'Query.placements': { query: '{ placements { key } }' },
    'Query.contents': { query: '{ contents { key } }' },
    'Query.strategies': { query: '{ strategies { key } }' },
    'Query.experiments': { query: '{ experiments { key } }' },
    'Query.decisionHistory': { query: '{ decisionHistory(kind: PLACEMENT, key: "home_banner") { version } }' },
    'Mutation.savePlacement': { query: 'mutation($i: PlacementInput!) { savePlacement(input: $i) { key } }' },
    'Mutation.saveContent': { query: 'mutation($i: ContentInput!) { saveContent(input: $i) { key } }' },
    'Mutation.saveStrategy': { query: 'mutation($i: StrategyInput!) { saveStrategy(input: $i) { key } }' },
    'Mutation.saveExperiment': { query: 'mutation($i: ExperimentInput!) { saveExperiment(input: $i) { key } }' },
    'Mutation.submitDecisionDefinition': {
      query: 'mutation($k: String!) { submitDecisionDefinition(kind: STRATEGY, key: $k, expectedVersion: 1) { status } }',
    },
    'Mutation.approveDecisionDefinition': {
      query: 'mutation($k: String!) { approveDecisionDefinition(kind: STRATEGY, key: $k, expectedVersion: 1) { status } }',
    },
    'Mutation.rejectDecisionDefinition': {
      query: 'mutation($k: String!) { rejectDecisionDefinition(kind: STRATEGY, key: $k, expectedVersion: 1, reason: "no") { status } }',
    },
    'Mutation.retireDecisionDefinition': { query: 'mutation($k: String!) { retireDecisionDefinition(kind: STRATEGY, key: $k, reason: "over") { status } }' },
    'Mutation.createStrategyFromAudience': {
      query:
        'mutation($k: String!) { createStrategyFromAudience(audience: "matrix_base", placement: "home_banner", content: "home_banner_default", key: $k) { key } }',
    },
    'Mutation.draftStrategyFromInsight': {
      query: 'mutation($i: DraftStrategyFromInsightInput!) { draftStrategyFromInsight(input: $i) { audience { key } strategy { key status } } }',
    },
    'Mutation.promoteExperiment': { query: 'mutation($k: String!) { promoteExperiment(key: $k, variant: "b") { key } }' },
    'Mutation.decide': { query: 'mutation { decide(customerId: "c000001", placements: ["home_banner"]) { decisionId } }' },
  };

  /** A decision definition drafted by another operator (`matrix-author`), optionally submitted, or published by an admin. */
  const decisionDraft = async (kind: 'STRATEGY' | 'EXPERIMENT', input: Record<string, unknown>, through: 'draft' | 'submitted' | 'published') => {
    const save = kind === 'STRATEGY' ? 'saveStrategy(input: $i)' : 'saveExperiment(input: $i)';
    const type = kind === 'STRATEGY' ? 'StrategyInput' : 'ExperimentInput';
    await ok(author, `mutation($i: ${type}!) { ${save} { key } }`, { i: input });
    if (through === 'draft') return;
    await ok(author, `mutation($k: String!) { submitDecisionDefinition(kind: ${kind}, key: $k, expectedVersion: 1) { status } }`, { k: input.key });
    if (through === 'published')
      await asAdmin(`mutation($k: String!) { approveDecisionDefinition(kind: ${kind}, key: $k, expectedVersion: 1) { status } }`, { k: input.key });
  };
  const strategyInput = (key: string, extra: Record<string, unknown> = {}) => ({
    key,
    placement: 'home_banner',
    description: 'matrix',
    contents: ['home_banner_default'],
    ...extra,
  });
  const experimentInput = (key: string) => ({
    key,
    placement: 'home_banner',
    description: 'matrix',
    variants: [
      { key: 'a', weight: 1, content: 'banner_fund_generic' },
      { key: 'b', weight: 1, content: 'banner_fund_social_proof' },
    ],
    goal: { event: 'purchase_success', windowDays: 7 },
  });
  let author: string;

  /** Per call, the variables (and any setup) that make an allowed call succeed. */
  const prepare = async (field: string, caller: Caller): Promise<Record<string, unknown>> => {
    const key = `m_${field.split('.')[1]?.toLowerCase().slice(0, 20)}_${slug(caller)}`;
    switch (field) {
      case 'Mutation.createTag':
        return { i: tagInput(key) };
      case 'Mutation.updateTag':
      case 'Mutation.archiveTag':
        await draft(key, 'draft');
        return { k: key };
      case 'Mutation.submitTag':
        await draft(key, 'draft');
        return { k: key };
      case 'Mutation.approveTag':
      case 'Mutation.rejectTag':
        await draft(key, 'submitted');
        return { k: key };
      case 'Mutation.deprecateTag':
        await draft(key, 'published');
        return { k: key };
      case 'Mutation.publishMaterialization': {
        // A held run to publish: with an allowed drift of 0, a run months away from the snapshot is held.
        const month = String(3 + CALLERS.indexOf(caller)).padStart(2, '0');
        const run = await asAdmin(`mutation { materializeTags(asOf: "2026-${month}-15") { runId status } }`);
        expect(run.materializeTags.status).toBe('HELD');
        return { r: run.materializeTags.runId };
      }
      case 'Mutation.createLookalikeAudience':
        return { i: { key: `lal_${slug(caller)}`, seed: 'matrix_seed', size: 20 } };
      case 'Mutation.savePlacement':
        return { i: { key, channel: 'app', page: 'matrix', description: 'matrix', contentSchema: { type: 'object' }, fallback: 'matrix_default' } };
      case 'Mutation.saveContent':
        return { i: { key, placement: 'home_banner', description: 'matrix', payload: { title: 'matrix', link: 'https://example.com' } } };
      case 'Mutation.saveStrategy':
        return { i: strategyInput(key) };
      case 'Mutation.saveExperiment':
        return { i: experimentInput(key) };
      case 'Mutation.submitDecisionDefinition':
      case 'Mutation.retireDecisionDefinition':
        await decisionDraft('STRATEGY', strategyInput(key), 'draft');
        return { k: key };
      case 'Mutation.approveDecisionDefinition':
      case 'Mutation.rejectDecisionDefinition':
        await decisionDraft('STRATEGY', strategyInput(key), 'submitted');
        return { k: key };
      case 'Mutation.createStrategyFromAudience':
        return { k: key };
      case 'Mutation.draftStrategyFromInsight':
        return {
          i: {
            rule: { tag: 'risk_level', op: 'EQ', values: ['C4'] },
            audienceKey: `node_${slug(caller)}`,
            placement: 'home_banner',
            content: 'home_banner_default',
            key,
          },
        };
      case 'Mutation.promoteExperiment':
        await decisionDraft('EXPERIMENT', experimentInput(key), 'published');
        await decisionDraft('STRATEGY', strategyInput(`${key}_s`, { contents: [], experiment: key }), 'published');
        return { k: key };
      case 'Mutation.createAudience':
        return { i: { key: `aud_${slug(caller)}`, rule: { tag: 'risk_level', op: 'EQ', values: ['C3'] } } };
      case 'Mutation.createGoal':
        return { i: goalInput(`goal_${slug(caller)}`) };
      case 'Mutation.saveMonitor':
        return { i: monitorInput(key) };
      case 'Mutation.submitMonitor':
        await ok(author, 'mutation($i: MonitorInput!) { saveMonitor(input: $i) { key } }', { i: monitorInput(key) });
        return { k: key };
      case 'Mutation.approveMonitor':
      case 'Mutation.rejectMonitor':
        // Drafted and submitted by another operator: the caller is never its author.
        await ok(author, 'mutation($i: MonitorInput!) { saveMonitor(input: $i) { key } }', { i: monitorInput(key) });
        await ok(author, 'mutation($k: String!) { submitMonitor(key: $k, expectedVersion: 1) { status } }', { k: key });
        return { k: key };
      case 'Mutation.saveDashboard':
        return { i: dashboardInput(key) };
      case 'Mutation.submitDashboard':
        await asRole('steward', 'mutation($i: DashboardInput!) { saveDashboard(input: $i) { key } }', { i: dashboardInput(key) });
        return { k: key };
      case 'Mutation.approveDashboard':
      case 'Mutation.rejectDashboard':
        await asRole('steward', 'mutation($i: DashboardInput!) { saveDashboard(input: $i) { key } }', { i: dashboardInput(key) });
        await asRole('steward', 'mutation($k: String!) { submitDashboard(key: $k, expectedVersion: 1) { status } }', { k: key });
        return { k: key };
      case 'Mutation.updateGoal':
        await asAdmin('mutation($i: CreateGoalInput!) { createGoal(input: $i) { key } }', { i: goalInput(key) });
        return { k: key };
      case 'Mutation.createApiKey':
        return { i: { name: `made-by-${slug(caller)}`, role: 'analyst' } };
      case 'Mutation.revokeApiKey':
        await createApiKey(server.database.db, `to-revoke-${slug(caller)}`, 'analyst');
        return { n: `to-revoke-${slug(caller)}` };
      case 'Mutation.trackEvents':
        return {
          e: [
            {
              eventId: `matrix-${engine}-${caller}`,
              name: 'app_open',
              customerId: 'c000001',
              occurredAt: new Date().toISOString(),
              channel: 'app',
              properties: {},
            },
          ],
        };
      default:
        return {};
    }
  };

  beforeAll(async () => {
    const keys = Object.fromEntries(ROLES.map((role) => [role, [`matrix-${role}`, role] as const])) as Record<Role, readonly [string, Role]>;
    server = await startDemoServer(engine, {
      customers: 300,
      seed: 5,
      keys,
      app: {
        materializeMaxDrift: 0,
        authFailureLimit: 0,
      },
    });
    Object.assign(tokens, server.keys, { anonymous: null });
    // A key that worked (and is cached by the server), then revoked through the API.
    revoked = await createApiKey(server.database.db, 'matrix-revoked', 'admin');
    await ok(revoked, '{ catalog { metrics { name } } }');
    await asAdmin('mutation { revokeApiKey(name: "matrix-revoked") { revoked } }');
    tokens.revoked = revoked;
    await asAdmin('mutation { materializeTags { runId } }');
    await asRole('operator', 'mutation { createAudience(input: { key: "matrix_base", rule: { tag: "risk_level", op: IN, values: ["C2", "C3"] } }) { key } }');
    await asRole(
      'operator',
      'mutation { createAudience(input: { key: "matrix_seed", rule: { tag: "risk_level", op: IN, values: ["C1", "C2", "C3"] } }) { key } }',
    );
    await draft('matrix_seen', 'draft');
    author = await createApiKey(server.database.db, 'matrix-author', 'operator');
  }, 300_000);
  afterAll(() => server?.close());

  it('has a policy and a sample call for every root field of the printed schema', () => {
    const fields = rootFieldNames(schema);
    expect(fields.filter((f) => !(f in OPERATION_POLICIES))).toEqual([]);
    expect(fields.filter((f) => !(f in SAMPLES))).toEqual([]);
  });

  const rootFields = rootFieldNames(schema);
  it.each(rootFields.flatMap((field) => CALLERS.map((caller) => [field, caller] as const)))('%s as %s', async (field, caller) => {
    const policy = OPERATION_POLICIES[field as keyof typeof OPERATION_POLICIES] as Action | typeof PUBLIC;
    const allowed = policy === PUBLIC || (caller !== 'anonymous' && caller !== 'revoked' && rolesFor(policy).includes(caller));
    const sample = SAMPLES[field] as Sample;
    const variables = await prepare(field, caller);
    const body: GqlResponse = await post(tokens[caller], sample.query, variables);
    if (allowed) {
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      expect(Object.values(body.data ?? {}).every((v) => v !== null && v !== undefined)).toBe(true);
      return;
    }
    const expected = caller === 'anonymous' || caller === 'revoked' ? 'UNAUTHENTICATED' : 'FORBIDDEN';
    expect(
      body.errors?.map((e) => e.extensions?.code),
      JSON.stringify(body),
    ).toEqual([expected]);
    // No data: the answer is null, or (for a nullable root field) the field is null.
    expect(Object.values(body.data ?? {}).every((v) => v === null)).toBe(true);
  });

  it('guards nested fields with their own policy: audience members need audiences.members', async () => {
    const query = '{ audience(key: "matrix_base") { key members(first: 2) { edges { node { id } } } } }';
    for (const role of ROLES) {
      const body = await post(tokens[role], query);
      const mayRead = rolesFor('audiences.read').includes(role);
      const mayList = mayRead && rolesFor('audiences.members').includes(role);
      if (mayList) expect(body.errors, `${role}: ${JSON.stringify(body.errors)}`).toBeUndefined();
      else expect(body.errors?.[0]?.extensions?.code, role).toBe('FORBIDDEN');
    }
  });
});
