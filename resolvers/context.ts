import type { Database } from '../store/database.ts';
import type { EventCollector } from '../store/event-collector.ts';
import type { SemanticLayer } from '../modeling/semantic-layer.ts';
import type DataLoader from 'dataloader';
import type { Principal } from '../services/authorization.ts';
import type { TagRuntime } from '../services/tag-runtime.ts';
import type { Profile } from '../services/profiles.ts';

/** Everything a resolver may use, built once per request by the API layer. */
export interface RequestContext {
  readonly database: Database;
  /** Who is calling, with the role their API key grants. */
  readonly principal: Principal;
  /** The acting user of mutations: the API key's name (`anonymous` without one). */
  readonly actor: string;
  /** Tags: the subject model, code-defined tags and the registry of steward-defined ones. */
  readonly tags: TagRuntime;
  /** Batches every profile lookup of a request into one query. */
  readonly profiles: DataLoader<string, Profile | null>;
  /** Whether results may include the SQL that ran (development mode). */
  readonly canSeeSql: boolean;
  /** The catalog and the metric compiler over it. */
  readonly semantic: SemanticLayer;
  /** Validates and stores behaviour events (shared with `POST /v1/events`). */
  readonly events: EventCollector;
  /** A materialization moving more than this share of customers in any tag is held for an approver. */
  readonly materializeMaxDrift: number;
}
