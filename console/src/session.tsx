import { createContext, useContext } from 'react';
import type { ConsoleCatalogQuery, ConsoleViewerQuery } from './generated/strata-console.ts';
import { roleMay, type Action } from './permissions.ts';

export type Catalog = ConsoleCatalogQuery['catalog'];
export type CatalogMetric = Catalog['metrics'][number];
export type CatalogTag = Catalog['tags'][number];
export type Viewer = ConsoleViewerQuery['viewer'];

/** The signed-in caller and the governed definitions, read once per sign-in. */
export interface Session {
  readonly viewer: Viewer;
  readonly version: string;
  readonly catalog: Catalog;
  /** Reads the catalog again (after a tag changes status). */
  refreshCatalog(): Promise<void>;
  may(action: Action): boolean;
  signOut(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('no session');
  return session;
}

export function sessionMay(role: string) {
  return (action: Action) => roleMay(role, action);
}

export { metricFormat } from './metric-format.ts';
