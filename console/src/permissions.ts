import { rolesFor, type Action } from '../../services/authorization.ts';

export type { Action };

/**
 * Whether a role may take an action, from the server's own permission table
 * (services/authorization.ts, bundled): screens and buttons a role cannot use are hidden.
 * The server still decides; a refused call shows its message.
 */
export function roleMay(role: string, action: Action): boolean {
  return (rolesFor(action) as readonly string[]).includes(role);
}
