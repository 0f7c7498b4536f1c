import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from './config.ts';

/** Non-test TypeScript files of the layers that run in the server and CLI. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

describe('configuration', () => {
  it('validates LOG_LEVEL with the other variables: one line naming it and the levels, no stack', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(loadConfig({ LOG_LEVEL: 'silent' }).logLevel).toBe('silent');
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(
      'invalid configuration: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    );
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'loud', PORT: 'x' })).toThrow(/PORT: .*; LOG_LEVEL: must be one of/);
  });

  it('is the only place that reads the environment', () => {
    const readers = ['api', 'resolvers', 'services', 'modeling', 'store', 'migrations', 'domains']
      .flatMap(sourceFiles)
      .filter((file) => file !== join('api', 'config.ts') && /process\.env\b/.test(readFileSync(file, 'utf8')));
    expect(readers).toEqual([]);
  });
});
