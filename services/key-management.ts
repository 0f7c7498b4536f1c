import type { Database } from '../store/database.ts';
import { checkKeyName, createApiKey, revokeApiKey } from '../store/api-keys.ts';
import { StrataError } from '../modeling/errors.ts';
import type { Sensitivity } from '../modeling/catalog/sensitivity.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';
import { isRole, ROLE_CLEARANCE, ROLES, type Principal, type Role } from './authorization.ts';
import { grantedClearance, narrowScope, parseScope } from './access-grants.ts';
import type { TagRuntime } from './tag-runtime.ts';

export interface NewKey {
  readonly name: string;
  readonly role: string;
  /** One of the sensitivity classes, at most the role's own; the role's when omitted. */
  readonly clearance?: string | null;
  /** A rule over customer dimensions and published tags (API.md's JSON form). */
  readonly scope?: unknown;
}

export interface IssuedKey {
  readonly name: string;
  readonly role: Role;
  readonly clearance: Sensitivity;
  readonly scope: Record<string, unknown> | null;
  /** The secret, shown once. */
  readonly token: string;
}

/**
 * Creates an API key after checking its name, role, clearance and scope, and tells every
 * running server. `creator` (null from the command line) bounds the grant: the key's
 * clearance is at most the creator's and its scope lies within the creator's.
 */
export async function issueApiKey(database: Database, tags: TagRuntime, creator: Principal | null, input: NewKey): Promise<IssuedKey> {
  checkKeyName(input.name);
  if (!isRole(input.role))
    throw new StrataError('BAD_USER_INPUT', `role: unknown role '${input.role.slice(0, 40)}'; use one of ${ROLES.join(', ')}`, { path: 'role' });
  const role = input.role;
  const clearance = grantedClearance(role, input.clearance, 'clearance', creator?.clearance);
  const requested = input.scope === null || input.scope === undefined ? undefined : await parseScope(tags, input.scope, 'scope');
  const rule = narrowScope(creator?.scope, requested);
  const scope = rule ? ruleToInput(rule) : null;
  // The role's own clearance is stored as null, so the key follows the role table.
  const stored = clearance === ROLE_CLEARANCE[role] ? null : clearance;
  const token = await createApiKey(database.db, input.name, role, { clearance: stored, scope, createdBy: creator?.name ?? null, changes: database.changes });
  return { name: input.name, role, clearance, scope, token };
}

/**
 * Revokes a key by name; every running server refuses it from its next request.
 * NOT_FOUND for a name never issued; `revoked` is false when it was revoked before.
 */
export async function withdrawApiKey(database: Database, actor: string, name: string): Promise<{ name: string; revoked: boolean; revokedAt: Date | null }> {
  const outcome = await revokeApiKey(database.db, database.changes, name, actor);
  if (!outcome.found) throw new StrataError('NOT_FOUND', `no key named '${name.slice(0, 80)}'`, { path: 'name' });
  return { name, revoked: outcome.revoked, revokedAt: outcome.revokedAt };
}
