export interface Change {
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
}

/** The leaf-level differences between two JSON values, e.g. `[{ path: 'rule.and[0].values', from, to }]`. */
export function jsonDiff(before: unknown, after: unknown, path = ''): Change[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => jsonDiff(item, after[i], `${path}[${i}]`));
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => jsonDiff(before[key], after[key], path ? `${path}.${key}` : key));
  }
  return [{ path: path || '(root)', from: before ?? null, to: after ?? null }];
}
