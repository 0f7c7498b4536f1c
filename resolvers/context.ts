import type { Database } from '../store/database.ts';
import type { EventCollector } from '../store/event-collector.ts';
import type { PersonalDataLog } from '../store/personal-data-log.ts';
import type { EncryptionKeyring } from '../store/personal-data-keys.ts';
import type { QueryAccess, SemanticLayer } from '../modeling/semantic-layer.ts';
import type { Principal } from '../services/authorization.ts';
import type { Viewer } from '../services/access.ts';
import type { TagRuntime } from '../services/tag-runtime.ts';
import type { ProfileLoader } from '../services/profiles.ts';
import type { AnalyticsLane } from '../services/analytics-lane.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';
import type { ExperimentDefinitionSource } from '../services/experiment-definitions.ts';
import type { DecisionService } from '../services/decisions.ts';
import type { MonitorRun } from '../services/monitors.ts';

/** Who is calling and what they see, found once per request when a guarded field first runs. */
export interface Session {
  readonly principal: Principal;
  /** The acting user of mutations: the key's name or the token's subject. */
  readonly actor: string;
  /** The catalog (with the published tags as dimensions) and the metric compiler over it. */
  readonly semantic: SemanticLayer;
  /** Whether results may include the SQL that ran (development mode and a role that may see it). */
  readonly canSeeSql: boolean;
  /** What the caller may see of the warehouse: clearance, row scope, small-cell threshold. */
  readonly access: QueryAccess;
  /** The caller and their small-cell threshold, for previews, audiences and insight. */
  readonly viewer: Viewer;
  /** Batches every profile lookup of a request into one query, scoped and masked for the caller. */
  readonly profiles: ProfileLoader;
}

/** Everything a resolver may use, built once per request by the API layer. */
export interface RequestContext {
  readonly database: Database;
  /** The domain served: its catalog, tags, events, channels and subject (placed here by `createApp`). */
  readonly domain: Domain;
  /**
   * Authenticates the caller (an API key lookup or a token check) and loads their view of the
   * catalog, once per request. The policy catalogue runs it before every guarded field; public
   * fields never do, so they answer without the database.
   */
  session(): Promise<Session>;
  /** Tags: the subject model, code-defined tags and the registry of steward-defined ones. */
  readonly tags: TagRuntime;
  /** Records who read which customers' personal data (profiles, members). */
  readonly personalData: PersonalDataLog;
  /** The keys that decrypt the encrypted copies of personal event properties (none configured: undefined). */
  readonly personalKeys: EncryptionKeyring | undefined;
  /** The decision layer: cached definitions and `decide`. */
  readonly decisions: DecisionService;
  /** Validates and stores behaviour events (shared with `POST /v1/events`). */
  readonly events: EventCollector;
  /** A materialization moving more than this share of customers in any tag is held for an approver. */
  readonly materializeMaxDrift: number;
  /** Longest a statement of a materialization may run; 0: none. */
  readonly materializeStatementTimeoutMs: number;
  /** The capped lane and connections of expensive reads: metric queries, previews, insight, audience counts, materialization. */
  readonly analytics: AnalyticsLane;
  /** The in-process monitor scheduler: `tick` evaluates due monitors now (under the cluster-wide lock). */
  readonly monitors: { tick(): Promise<MonitorRun | undefined> };
  /** Experiment definitions by key, as experiment results need them. */
  readonly experiments: ExperimentDefinitionSource;
  /** The address the request came from (the socket's peer): the rate-limit key of anonymous callers. */
  readonly clientAddress: string;
  /** The request's id (the client's `X-Request-Id`, or one generated), returned in `X-Request-Id` and written in its log lines. */
  readonly requestId: string;
}
