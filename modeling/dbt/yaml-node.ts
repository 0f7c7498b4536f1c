import type { ProblemCollector } from '../catalog/validation-error.ts';

/**
 * A YAML value with its location, so that every problem names the file and path. Accessors
 * return undefined (and record a problem) instead of throwing, so that all problems of a
 * project are collected in one pass.
 */
export class YamlNode {
  constructor(
    readonly value: unknown,
    readonly file: string,
    readonly path: string,
    readonly problems: ProblemCollector,
  ) {}

  get where(): string {
    return `${this.file}: ${this.path}`;
  }

  problem(code: string, message: string): undefined {
    this.problems.add(this.where, code, message);
    return undefined;
  }

  child(key: string): YamlNode {
    const value = this.value && typeof this.value === 'object' && !Array.isArray(this.value) ? (this.value as Record<string, unknown>)[key] : undefined;
    return new YamlNode(value, this.file, `${this.path}.${key}`, this.problems);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  string(required = false): string | undefined {
    if (!this.present) return required ? this.problem('MISSING_FIELD', 'is required') : undefined;
    if (typeof this.value === 'string') return this.value;
    if (typeof this.value === 'number' || typeof this.value === 'boolean') return String(this.value);
    return this.problem('INVALID_TYPE', 'must be a string');
  }

  /**
   * A window or offset: dbt's YAML text (`7 days`) or the compiled manifest's
   * `{ count: 7, granularity: 'day' }`, as text.
   */
  window(): string | undefined {
    const value = this.value;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const { count, granularity } = value as { count?: unknown; granularity?: unknown };
      if (typeof count === 'number' && typeof granularity === 'string') return `${count} ${granularity}`;
      return this.problem('INVALID_TYPE', 'must be a window such as `7 days` or { count, granularity }');
    }
    return this.string();
  }

  /** Meta of a definition: `config: { meta }` (dbt >= 1.10) or `meta` beside it. */
  meta(key: string): YamlNode {
    const inConfig = this.child('config').child('meta').child(key);
    return inConfig.present ? inConfig : this.child('meta').child(key);
  }

  number(): number | undefined {
    if (!this.present) return undefined;
    const n = typeof this.value === 'number' ? this.value : Number(this.value);
    return Number.isFinite(n) ? n : this.problem('INVALID_TYPE', 'must be a number');
  }

  boolean(): boolean | undefined {
    if (!this.present) return undefined;
    if (typeof this.value === 'boolean') return this.value;
    return this.problem('INVALID_TYPE', 'must be true or false');
  }

  list(): YamlNode[] {
    if (!this.present) return [];
    if (!Array.isArray(this.value)) return this.problem('INVALID_TYPE', 'must be a list') ?? [];
    return this.value.map((item, i) => new YamlNode(item, this.file, `${this.path}[${i}]`, this.problems));
  }

  /** Keys present but not in `known`, each reported once (a typo should not pass silently). */
  checkKeys(known: readonly string[]): void {
    if (!this.value || typeof this.value !== 'object' || Array.isArray(this.value)) return;
    for (const key of Object.keys(this.value)) {
      if (!known.includes(key)) this.problems.add(`${this.where}.${key}`, 'UNKNOWN_FIELD', `unknown field '${key}'; expected one of ${known.join(', ')}`);
    }
  }
}
