import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { RequestContext } from '../resolvers/context.ts';
import type { Database } from '../store/database.ts';
import type { EventCollector } from '../store/event-collector.ts';
import type { SemanticLayer } from '../modeling/semantic-layer.ts';
import type { TagRuntime } from '../services/tag-runtime.ts';
import { createProfileLoader } from '../services/profiles.ts';
import { isAllowed, type Principal } from '../services/authorization.ts';

/**
 * Root query fields answered without a caller or the database: what a client and a probe
 * may ask while the database is down. Every other field (and every mutation) needs the
 * principal, so the request is authenticated before it runs.
 */
const ANSWERED_WITHOUT_PRINCIPAL = new Set(['version', 'health', '__typename']);

/** What the per-request context is built from; one set per server. */
export interface RequestContextSources {
  readonly database: Database;
  readonly events: EventCollector;
  readonly tags: TagRuntime;
  readonly semantic: () => Promise<SemanticLayer>;
  readonly authenticate: (request: IncomingMessage) => Promise<Principal>;
  /** Development mode: callers allowed `metrics.sql` see the SQL that ran. */
  readonly dev: boolean;
}

interface Resolved {
  readonly principal: Principal;
  readonly semantic: SemanticLayer;
}

/** Shared by a context and the copies Apollo makes of it (it copies own enumerable properties). */
interface LazyState {
  resolved: Resolved | undefined;
  readonly resolve: () => Promise<Resolved>;
  readonly dev: boolean;
}

const LAZY = Symbol('lazy request context');

/**
 * A request's context whose principal (with `actor` and `canSeeSql`) and semantic layer,
 * which read the database, are obtained by `resolveRequestContext` only when the operation
 * needs them (see `requestContextPlugin`). Reading them earlier is a programming error.
 */
class LazyRequestContext implements RequestContext {
  readonly database: Database;
  readonly events: EventCollector;
  readonly tags: TagRuntime;
  readonly profiles: RequestContext['profiles'];
  readonly [LAZY]: LazyState;

  constructor(request: IncomingMessage, sources: RequestContextSources) {
    this.database = sources.database;
    this.events = sources.events;
    this.tags = sources.tags;
    this.profiles = createProfileLoader(sources.database, sources.tags);
    const resolve = async (): Promise<Resolved> => {
      const [principal, semantic] = await Promise.all([sources.authenticate(request), sources.semantic()]);
      return { principal, semantic };
    };
    this[LAZY] = { resolved: undefined, resolve, dev: sources.dev };
  }

  get principal(): Principal {
    return this.need().principal;
  }
  get actor(): string {
    return this.need().principal.name;
  }
  get canSeeSql(): boolean {
    return this[LAZY].dev && isAllowed(this.need().principal, 'metrics.sql');
  }
  get semantic(): SemanticLayer {
    return this.need().semantic;
  }

  private need(): Resolved {
    const { resolved } = this[LAZY];
    if (!resolved) throw new Error('the request context was read before the caller was authenticated');
    return resolved;
  }
}

/** The context of one GraphQL request; see `LazyRequestContext`. */
export function createRequestContext(request: IncomingMessage, sources: RequestContextSources): RequestContext {
  return new LazyRequestContext(request, sources);
}

/** Authenticates the caller of a context made by `createRequestContext` and loads its semantic layer. */
export async function resolveRequestContext(context: RequestContext): Promise<void> {
  const state = (context as Partial<LazyRequestContext>)[LAZY];
  if (!state) throw new Error('not a context made by createRequestContext');
  state.resolved ??= await state.resolve();
}

/**
 * Resolves the request context once the operation is known, unless it selects only fields
 * answered without a principal (`{ version }`, `{ health { ok } }`), so those answer while
 * the database is unreachable. A failure here (the database is down) answers the request
 * with the formatted error before anything runs.
 */
export function requestContextPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          if (operation && !needsPrincipal(operation, document)) return;
          await resolveRequestContext(contextValue);
        },
      };
    },
  };
}

function needsPrincipal(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  if (operation.operation !== 'query') return true;
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  );
  // Validation has already refused unknown and cyclic fragments.
  const visit = (set: SelectionSetNode): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return !ANSWERED_WITHOUT_PRINCIPAL.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return visit(selection.selectionSet);
      const fragment = fragments.get(selection.name.value);
      return fragment === undefined || visit(fragment);
    });
  return visit(operation.selectionSet);
}
