import { builder } from './builder.ts';
import type { RequestContext } from './context.ts';
import { historyEntryType } from './history-entry.ts';
import { DASHBOARD_TILE_KINDS, VISUALIZATIONS, type Dashboard, type DashboardTile, type JsonObject } from '../modeling/dsl/define-dashboard.ts';
import { StrataError } from '../modeling/errors.ts';
import { isAllowed } from '../services/authorization.ts';
import {
  approveDashboard,
  dashboardHistory,
  dataLastCompleteDay,
  findDashboard,
  listDashboards,
  rejectDashboard,
  saveDashboardDraft,
  servedDashboard,
  submitDashboard,
  type DashboardCurationContext,
  type DashboardView,
} from '../services/dashboards.ts';

const DashboardTileKindEnum = builder.enumType('DashboardTileKind', {
  description:
    'What answers a tile: METRIC `metrics(query:)`, FUNNEL `funnel(input:)`, CHANGE `explainMetricChange(input:)`, GOAL `goals` / `goals(keys: [query.goal])`.',
  values: DASHBOARD_TILE_KINDS,
});
const DashboardSourceEnum = builder.enumType('DashboardSource', { values: ['CODE', 'STEWARD'] as const });

const DashboardTileRef = builder.objectRef<DashboardTile>('DashboardTile').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    title: t.exposeString('title', { description: 'Chinese-first.' }),
    titleEn: t.exposeString('titleEn'),
    kind: t.field({ type: DashboardTileKindEnum, resolve: (tile) => tile.kind }),
    visualization: t.exposeString('visualization', { description: VISUALIZATIONS.join(', ') }),
    query: t.field({
      type: 'JSON',
      description: 'Exactly the input of the operation answering the tile, relative ranges resolved to dates: run it unchanged.',
      resolve: (tile) => tile.query as never,
    }),
    description: t.string({ nullable: true, resolve: (tile) => tile.description ?? null }),
    descriptionZh: t.string({ nullable: true, description: 'The description in Chinese (zh-CN).', resolve: (tile) => tile.descriptionZh ?? null }),
  }),
});

interface ServedDashboard {
  readonly view: DashboardView;
  readonly dashboard: Dashboard;
}

const DashboardRef = builder.objectRef<ServedDashboard>('Dashboard').implement({
  description: 'A dashboard as code (`defineDashboard`) or a steward’s under review: tiles, each a saved query with a suggested visualization.',
  fields: (t) => ({
    key: t.string({ resolve: (d) => d.dashboard.key }),
    title: t.string({ description: 'Chinese-first.', resolve: (d) => d.dashboard.title }),
    titleEn: t.string({ resolve: (d) => d.dashboard.titleEn }),
    description: t.string({ resolve: (d) => d.dashboard.description }),
    descriptionZh: t.string({
      nullable: true,
      description: 'The description in Chinese (zh-CN); null when only the English one is given.',
      resolve: (d) => d.dashboard.descriptionZh ?? null,
    }),
    tiles: t.field({ type: [DashboardTileRef], resolve: (d) => [...d.dashboard.tiles] }),
    source: t.field({ type: DashboardSourceEnum, resolve: (d) => d.view.source }),
    status: t.string({ resolve: (d) => d.view.status }),
    version: t.int({ resolve: (d) => d.view.version }),
    updatedBy: t.string({ nullable: true, resolve: (d) => d.view.updatedBy }),
  }),
});

const DashboardHistoryEntryRef = historyEntryType('DashboardHistoryEntry');

const DashboardRangeInput = builder.inputType('DashboardRangeInput', {
  description: 'Half-open `[from, to)` of reporting-zone days.',
  fields: (t) => ({ from: t.string({ required: true }), to: t.string({ required: true }) }),
});

const DashboardTileInput = builder.inputType('DashboardTileInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    title: t.string({ required: true }),
    titleEn: t.string({ required: true }),
    kind: t.field({ type: DashboardTileKindEnum, required: true }),
    visualization: t.string({ required: true }),
    query: t.field({
      type: 'JSON',
      required: true,
      description: 'The operation’s input; a `timeRange`, `base` or `current` may be `{ relative: { grain, periods, offset } }`.',
    }),
    description: t.string(),
    descriptionZh: t.string({ description: 'The description in Chinese (zh-CN).' }),
  }),
});

const DashboardInput = builder.inputType('DashboardInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    title: t.string({ required: true }),
    titleEn: t.string({ required: true }),
    description: t.string({ required: true }),
    descriptionZh: t.string({ description: 'The description in Chinese (zh-CN), shown by the Chinese console.' }),
    tiles: t.field({ type: [DashboardTileInput], required: true }),
  }),
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Tiles with ranges resolved against the data's last complete day, once per request. */
async function served(ctx: RequestContext, views: readonly DashboardView[], override?: { from: string; to: string }): Promise<ServedDashboard[]> {
  if (override && (!DATE.test(override.from) || !DATE.test(override.to) || override.from >= override.to))
    throw new StrataError('BAD_USER_INPUT', 'timeRange: `from` and `to` are YYYY-MM-DD days, `from` first');
  const { semantic } = await ctx.session();
  const lastDay = await dataLastCompleteDay(ctx.database.db, semantic, new Date());
  return views.map((view) => ({ view, dashboard: servedDashboard(view.dashboard, lastDay, override) }));
}

async function curation(ctx: RequestContext): Promise<DashboardCurationContext> {
  const { semantic, actor } = await ctx.session();
  return { db: ctx.database.db, actor, semantic, domain: ctx.domain };
}

const plain = (view: DashboardView): ServedDashboard => ({ view, dashboard: view.dashboard });

builder.queryFields((t) => ({
  dashboards: t.field({
    type: [DashboardRef],
    description:
      'The dashboards defined as code (the seven templates of the bundled domain), then the stewards’ published ones; tile ranges resolved to dates.',
    args: {
      includeDrafts: t.arg.boolean({
        description: 'Stewards’ dashboards at their current version, drafts and those under review included (catalog.drafts roles).',
      }),
    },
    resolve: async (_r, { includeDrafts }, ctx) => {
      if (includeDrafts) {
        const { principal } = await ctx.session();
        if (!isAllowed(principal, 'catalog.drafts'))
          throw new StrataError('FORBIDDEN', 'seeing dashboards under review needs a steward, approver or admin key');
      }
      return served(ctx, await listDashboards(ctx.database.db, ctx.domain, { includeDrafts: includeDrafts === true }));
    },
  }),
  dashboard: t.field({
    type: DashboardRef,
    nullable: true,
    description: 'One dashboard by key (null: none); `timeRange` replaces every tile’s period (a change tile’s base becomes the days just before it).',
    args: { key: t.arg.string({ required: true }), timeRange: t.arg({ type: DashboardRangeInput }) },
    resolve: async (_r, { key, timeRange }, ctx) => {
      const view = await findDashboard(ctx.database.db, ctx.domain, key);
      return view ? ((await served(ctx, [view], timeRange ?? undefined))[0] ?? null) : null;
    },
  }),
  dashboardHistory: t.field({
    type: [DashboardHistoryEntryRef],
    description: 'Every change of a steward’s dashboard, with who, when, why and the changed fields.',
    args: { key: t.arg.string({ required: true }) },
    resolve: (_r, { key }, ctx) => dashboardHistory(ctx.database.db, key),
  }),
}));

const EXPECTED_VERSION = 'The version you last read (omit to create).';

builder.mutationFields((t) => ({
  saveDashboard: t.field({
    type: DashboardRef,
    description: 'Creates (no expectedVersion) or changes a steward’s dashboard as a DRAFT; every tile’s query is checked against the catalog.',
    args: { input: t.arg({ type: DashboardInput, required: true }), expectedVersion: t.arg.int({ description: EXPECTED_VERSION }) },
    resolve: async (_r, { input, expectedVersion }, ctx) => {
      const spec: Dashboard = {
        key: input.key,
        title: input.title,
        titleEn: input.titleEn,
        description: input.description,
        ...(input.descriptionZh ? { descriptionZh: input.descriptionZh } : {}),
        tiles: input.tiles.map((tile) => ({
          key: tile.key,
          title: tile.title,
          titleEn: tile.titleEn,
          kind: tile.kind,
          visualization: tile.visualization as DashboardTile['visualization'],
          query: tile.query as JsonObject,
          ...(tile.description ? { description: tile.description } : {}),
          ...(tile.descriptionZh ? { descriptionZh: tile.descriptionZh } : {}),
        })),
      };
      return plain(await saveDashboardDraft(await curation(ctx), spec, expectedVersion ?? null));
    },
  }),
  submitDashboard: t.field({
    type: DashboardRef,
    description: 'DRAFT -> IN_REVIEW.',
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: async (_r, { key, expectedVersion }, ctx) => plain(await submitDashboard(await curation(ctx), key, expectedVersion)),
  }),
  approveDashboard: t.field({
    type: DashboardRef,
    description: 'IN_REVIEW -> PUBLISHED, by someone other than its authors; served at once.',
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: async (_r, { key, expectedVersion }, ctx) => plain(await approveDashboard(await curation(ctx), key, expectedVersion)),
  }),
  rejectDashboard: t.field({
    type: DashboardRef,
    description: 'IN_REVIEW -> DRAFT with a reason.',
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }), reason: t.arg.string({ required: true }) },
    resolve: async (_r, { key, expectedVersion, reason }, ctx) => plain(await rejectDashboard(await curation(ctx), key, expectedVersion, reason)),
  }),
}));
