import { StrataError } from '../modeling/errors.ts';
import type { Sensitivity } from '../modeling/catalog/sensitivity.ts';
import type { Rule } from '../modeling/conditions/rule.ts';

export const ROLES = ['analyst', 'app', 'steward', 'approver', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Every action the API authorizes, and the roles allowed to take it. One table, one check. */
const PERMISSIONS = {
  /** Who the caller is (name, role, clearance, scope): any role. */
  'viewer.read': ['analyst', 'app', 'steward', 'approver', 'operator', 'admin'],
  'catalog.read': ['analyst', 'app', 'steward', 'approver', 'operator', 'admin'],
  /** Drafts, rules under review and the audit trail of definitions. */
  'catalog.drafts': ['steward', 'approver', 'admin'],
  /** Physical table names behind models and metrics. */
  'catalog.physical': ['admin'],
  'metrics.query': ['analyst', 'steward', 'approver', 'operator', 'admin'],
  'metrics.sql': ['analyst', 'admin'],
  'profiles.read': ['app', 'operator', 'admin'],
  'tags.draft': ['steward', 'admin'],
  'tags.review': ['approver', 'admin'],
  'tags.preview': ['steward', 'approver', 'analyst', 'admin'],
  'tags.materialize': ['steward', 'operator', 'admin'],
  'audiences.manage': ['operator', 'steward', 'admin'],
  'audiences.read': ['operator', 'steward', 'analyst', 'admin'],
  'audiences.members': ['operator', 'admin'],
  /** Aggregate insight (comparisons, attribution trees): counts and statistics, small cells suppressed. */
  'insight.read': ['analyst', 'operator', 'steward', 'admin'],
  /** A strategy drafted from insight: creates an audience and a strategy draft, so both audiences.manage and decisions.manage. */
  'insight.strategy': ['operator', 'admin'],
  'events.track': ['app', 'operator', 'admin'],
  'keys.manage': ['admin'],
  /** A customer's stored events, personal properties decrypted for callers cleared for them. */
  'events.read': ['operator', 'admin'],
  'audit.read': ['admin'],
  /** Placements, contents, strategies, experiments and their history. */
  'decisions.read': ['analyst', 'operator', 'approver', 'admin'],
  /** Drafting decision definitions, retiring them, strategies from audiences. */
  'decisions.manage': ['operator', 'admin'],
  /** Approving or rejecting another's decision definition (four eyes), promoting an experiment's winner. */
  'decisions.review': ['operator', 'approver', 'admin'],
  /** `decide`: what a customer sees, logged as an exposure. */
  'decisions.decide': ['app', 'admin'],
  /** Experiment results: aggregates over exposed customers. */
  'experiments.results': ['analyst', 'operator', 'admin'],
  /** Goals with their actuals read through the semantic layer. */
  'goals.read': ['analyst', 'operator', 'admin'],
  'goals.manage': ['operator', 'admin'],
  /** Dashboards (definitions; their tiles run with the caller's own permissions). */
  'dashboards.read': ['analyst', 'steward', 'approver', 'operator', 'admin'],
  /** Drafting a dashboard for review, as for tags. */
  'dashboards.draft': ['steward', 'admin'],
  'dashboards.review': ['approver', 'admin'],
  /** Monitors with their evaluations and firings (aggregates, small cells null). */
  'monitors.read': ['analyst', 'steward', 'approver', 'operator', 'admin'],
  /** Drafting monitors (and their webhooks) for review, and running them now. */
  'monitors.manage': ['operator', 'admin'],
  /** Approving or rejecting another's monitor (four eyes, as for strategies). */
  'monitors.review': ['operator', 'approver', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof PERMISSIONS;

/** Anyone may call these, with or without credentials; they carry no customer data. */
export const PUBLIC = 'public';

/**
 * The policy of every GraphQL operation: each root query and mutation (and each nested
 * field that needs more than its parent) names the action it takes, or `public`. The
 * schema refuses to build when a root field is missing here (resolvers/policies.ts), and
 * the role matrix test calls every entry with every role.
 */
export const OPERATION_POLICIES = {
  'Query.version': PUBLIC,
  'Query.health': PUBLIC,
  'Query.viewer': 'viewer.read',
  'Query.catalog': 'catalog.read',
  'Query.metrics': 'metrics.query',
  'Query.customer': 'profiles.read',
  'Query.customers': 'profiles.read',
  'Query.tagPreview': 'tags.preview',
  'Query.tagHistory': 'catalog.drafts',
  'Query.audience': 'audiences.read',
  'Query.audienceInsight': 'audiences.read',
  'Query.audienceComparison': 'insight.read',
  'Query.attributionTree': 'insight.read',
  'Mutation.createTag': 'tags.draft',
  'Mutation.updateTag': 'tags.draft',
  'Mutation.submitTag': 'tags.draft',
  'Mutation.approveTag': 'tags.review',
  'Mutation.rejectTag': 'tags.review',
  'Mutation.deprecateTag': 'tags.review',
  'Mutation.archiveTag': 'tags.review',
  'Mutation.materializeTags': 'tags.materialize',
  'Mutation.publishMaterialization': 'tags.review',
  'Mutation.createAudience': 'audiences.manage',
  'Mutation.createLookalikeAudience': 'audiences.manage',
  'Mutation.draftStrategyFromInsight': 'insight.strategy',
  'Mutation.trackEvents': 'events.track',
  'Query.personalDataReads': 'audit.read',
  'Query.customerEvents': 'events.read',
  'Mutation.createApiKey': 'keys.manage',
  'Mutation.revokeApiKey': 'keys.manage',
  'Audience.members': 'audiences.members',
  'Query.placements': 'decisions.read',
  'Query.contents': 'decisions.read',
  'Query.strategies': 'decisions.read',
  'Query.experiments': 'decisions.read',
  'Query.decisionHistory': 'decisions.read',
  'Mutation.savePlacement': 'decisions.manage',
  'Mutation.saveContent': 'decisions.manage',
  'Mutation.saveStrategy': 'decisions.manage',
  'Mutation.saveExperiment': 'decisions.manage',
  'Mutation.submitDecisionDefinition': 'decisions.manage',
  'Mutation.approveDecisionDefinition': 'decisions.review',
  'Mutation.rejectDecisionDefinition': 'decisions.review',
  'Mutation.retireDecisionDefinition': 'decisions.manage',
  'Mutation.createStrategyFromAudience': 'decisions.manage',
  'Mutation.promoteExperiment': 'decisions.review',
  'Mutation.decide': 'decisions.decide',
  'Query.experimentResults': 'experiments.results',
  'Query.goals': 'goals.read',
  'Mutation.createGoal': 'goals.manage',
  'Mutation.updateGoal': 'goals.manage',
  'Query.funnels': 'catalog.read',
  'Query.funnel': 'metrics.query',
  'Query.explainMetricChange': 'metrics.query',
  'Query.dashboards': 'dashboards.read',
  'Query.dashboard': 'dashboards.read',
  'Query.dashboardHistory': 'catalog.drafts',
  'Mutation.saveDashboard': 'dashboards.draft',
  'Mutation.submitDashboard': 'dashboards.draft',
  'Mutation.approveDashboard': 'dashboards.review',
  'Mutation.rejectDashboard': 'dashboards.review',
  'Query.monitors': 'monitors.read',
  'Mutation.saveMonitor': 'monitors.manage',
  'Query.monitorHistory': 'monitors.read',
  'Mutation.submitMonitor': 'monitors.manage',
  'Mutation.approveMonitor': 'monitors.review',
  'Mutation.rejectMonitor': 'monitors.review',
  'Mutation.runMonitors': 'monitors.manage',
} as const satisfies Record<string, Action | typeof PUBLIC>;

/**
 * The classes of work the per-key rate limits count separately (api/rate-limits.ts): each has
 * its own token bucket per caller, so analytics traffic cannot spend an app's profile budget.
 */
export const OPERATION_CLASSES = ['profiles', 'events', 'analytics', 'definitions', 'catalog'] as const;
export type OperationClass = (typeof OPERATION_CLASSES)[number];

/**
 * The rate-limit class of every entry of OPERATION_POLICIES (the type requires one per
 * entry; `null`: not rate limited), plus nested fields that cost more than their parent
 * (`Audience.size` counts customers). Each selection of a field, aliases included, takes one
 * token of its class from the caller's bucket.
 */
export const OPERATION_CLASS_OF = {
  'Query.version': null,
  'Query.health': null,
  'Query.catalog': 'catalog',
  'Query.metrics': 'analytics',
  'Query.customer': 'profiles',
  'Query.customers': 'profiles',
  'Query.tagPreview': 'analytics',
  'Query.tagHistory': 'catalog',
  'Query.audience': 'catalog',
  'Query.audienceInsight': 'analytics',
  'Query.audienceComparison': 'analytics',
  'Query.attributionTree': 'analytics',
  'Mutation.createTag': 'definitions',
  'Mutation.updateTag': 'definitions',
  'Mutation.submitTag': 'definitions',
  'Mutation.approveTag': 'definitions',
  'Mutation.rejectTag': 'definitions',
  'Mutation.deprecateTag': 'definitions',
  'Mutation.archiveTag': 'definitions',
  'Mutation.materializeTags': 'definitions',
  'Mutation.createAudience': 'definitions',
  'Mutation.createLookalikeAudience': 'analytics',
  'Mutation.draftStrategyFromInsight': 'definitions',
  'Mutation.trackEvents': 'events',
  'Query.personalDataReads': 'catalog',
  'Query.viewer': 'catalog',
  'Query.customerEvents': 'profiles',
  'Mutation.publishMaterialization': 'definitions',
  'Mutation.createApiKey': 'definitions',
  'Mutation.revokeApiKey': 'definitions',
  'Audience.members': 'analytics',
  'Audience.size': 'analytics',
  'Query.placements': 'catalog',
  'Query.contents': 'catalog',
  'Query.strategies': 'catalog',
  'Query.experiments': 'catalog',
  'Query.decisionHistory': 'catalog',
  'Mutation.savePlacement': 'definitions',
  'Mutation.saveContent': 'definitions',
  'Mutation.saveStrategy': 'definitions',
  'Mutation.saveExperiment': 'definitions',
  'Mutation.submitDecisionDefinition': 'definitions',
  'Mutation.approveDecisionDefinition': 'definitions',
  'Mutation.rejectDecisionDefinition': 'definitions',
  'Mutation.retireDecisionDefinition': 'definitions',
  'Mutation.createStrategyFromAudience': 'definitions',
  'Mutation.promoteExperiment': 'definitions',
  'Mutation.decide': 'profiles',
  'Query.experimentResults': 'analytics',
  'Query.goals': 'analytics',
  'Mutation.createGoal': 'definitions',
  'Mutation.updateGoal': 'definitions',
  'Query.funnels': 'catalog',
  'Query.funnel': 'analytics',
  'Query.explainMetricChange': 'analytics',
  'Query.dashboards': 'catalog',
  'Query.dashboard': 'catalog',
  'Query.dashboardHistory': 'catalog',
  'Mutation.saveDashboard': 'definitions',
  'Mutation.submitDashboard': 'definitions',
  'Mutation.approveDashboard': 'definitions',
  'Mutation.rejectDashboard': 'definitions',
  'Query.monitors': 'catalog',
  'Mutation.saveMonitor': 'definitions',
  'Query.monitorHistory': 'catalog',
  'Mutation.submitMonitor': 'definitions',
  'Mutation.approveMonitor': 'definitions',
  'Mutation.rejectMonitor': 'definitions',
  'Mutation.runMonitors': 'analytics',
} as const satisfies Record<keyof typeof OPERATION_POLICIES, OperationClass | null> & Record<string, OperationClass | null>;

/** The highest sensitivity class each role may read row by row (a key or token may lower it). */
export const ROLE_CLEARANCE: Readonly<Record<Role, Sensitivity>> = {
  analyst: 'internal',
  app: 'personal',
  steward: 'internal',
  approver: 'internal',
  operator: 'personal',
  admin: 'restricted',
};

/** Who is calling: a key's name or a token's subject (or `anonymous`), and what they may see. */
export interface Principal {
  readonly name: string;
  /** None when anonymous callers are not allowed, or the credentials were refused. */
  readonly role: Role | null;
  /** The most sensitive class of member the caller may group, filter or read by customer. */
  readonly clearance: Sensitivity;
  /** Row-level scope: only customers matching this rule (customer dimensions and tags) exist for the caller. */
  readonly scope?: Rule;
  /** How the caller proved who they are. */
  readonly via: 'key' | 'jwt' | 'anonymous';
  /** Why credentials that were sent were refused (unknown or revoked key, bad token, bad header). */
  readonly problem?: string;
}

/** A caller without credentials, given the configured anonymous role (or none). */
export function anonymousPrincipal(role: Role | null, problem?: string): Principal {
  return { name: 'anonymous', role, clearance: role ? ROLE_CLEARANCE[role] : 'public', via: 'anonymous', ...(problem ? { problem } : {}) };
}

export function isAllowed(principal: Principal, action: Action): boolean {
  return principal.role !== null && (PERMISSIONS[action] as readonly Role[]).includes(principal.role);
}

/** The roles allowed to take an action, for tests and messages. */
export function rolesFor(action: Action): readonly Role[] {
  return PERMISSIONS[action];
}

/** Throws UNAUTHENTICATED (no or refused credentials) or FORBIDDEN (wrong role) unless the principal may act. */
export function authorize(principal: Principal, action: Action): void {
  if (isAllowed(principal, action)) return;
  if (principal.problem) throw new StrataError('UNAUTHENTICATED', principal.problem);
  if (principal.role === null) throw new StrataError('UNAUTHENTICATED', `'${action}' needs credentials: send Authorization: Bearer <api key or token>`);
  const roles = PERMISSIONS[action].join(', ');
  throw new StrataError('FORBIDDEN', `'${principal.name}' (role ${principal.role}) may not ${action}; roles allowed: ${roles}`);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
