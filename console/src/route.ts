import { useEffect, useState } from 'react';

/** The screens, by the first part of the hash (`#/explorer?...`): links carry queries and keys, never credentials. */
export const SCREENS = ['cockpit', 'explorer', 'stewards', 'audiences', 'workbench'] as const;
export type Screen = (typeof SCREENS)[number];

export interface Route {
  readonly screen: Screen | null;
  readonly params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = text.split('?', 2);
  const screen = (SCREENS as readonly string[]).includes(path) ? (path as Screen) : null;
  return { screen, params: new URLSearchParams(search) };
}

/** The link to a screen with parameters (objects are sent as JSON). */
export function hrefOf(screen: Screen, params: Readonly<Record<string, string | object | number | undefined | null>> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    search.set(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const text = search.toString();
  return `#/${screen}${text ? `?${text}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** A JSON parameter of the route, or undefined when absent or unreadable. */
export function jsonParam<T>(params: URLSearchParams, name: string): T | undefined {
  const text = params.get(name);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
