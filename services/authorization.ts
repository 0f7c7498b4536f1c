import { StrataError } from '../modeling/errors.ts';

export const ROLES = ['analyst', 'app', 'steward', 'approver', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Every action the API authorizes, and the roles allowed to take it. One table, one check. */
const PERMISSIONS = {
  'catalog.read': ['analyst', 'app', 'steward', 'approver', 'operator', 'admin'],
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
  'events.track': ['app', 'operator', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof PERMISSIONS;

/** Who is calling: a key's name (or `anonymous`) and its role (none when anonymous and not allowed). */
export interface Principal {
  readonly name: string;
  readonly role: Role | null;
  /** Why credentials that were sent were refused (unknown or revoked key, bad header). */
  readonly problem?: string;
}

export function isAllowed(principal: Principal, action: Action): boolean {
  return principal.role !== null && (PERMISSIONS[action] as readonly Role[]).includes(principal.role);
}

/** Throws UNAUTHENTICATED (no credentials) or FORBIDDEN (wrong role) unless the principal may act. */
export function authorize(principal: Principal, action: Action): void {
  if (isAllowed(principal, action)) return;
  if (principal.problem) throw new StrataError('UNAUTHENTICATED', principal.problem);
  if (principal.role === null) throw new StrataError('UNAUTHENTICATED', `'${action}' needs credentials: send Authorization: Bearer <api key>`);
  const roles = PERMISSIONS[action].join(', ');
  throw new StrataError('FORBIDDEN', `'${principal.name}' (role ${principal.role}) may not ${action}; roles allowed: ${roles}`);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
