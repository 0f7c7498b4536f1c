import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { explainQuery } from '../api/cli-explain.ts';

/** `strata explain`: the plan of a query printed readably (or as JSON), given as flags or JSON. */
const REPO = fileURLToPath(new URL('..', import.meta.url));

function explain(options: Parameters<typeof explainQuery>[1]): string {
  const lines: string[] = [];
  explainQuery(wealthCatalog(), options, (text) => lines.push(text));
  return lines.join('\n');
}

describe('strata explain', () => {
  it('prints nodes, joins, values, rewrites and sources for a query given as flags', () => {
    const text = explain({ metrics: 'aum,purchase_conversion_rate', groupBy: 'metric_time:MONTH,customer.channel', from: '2026-01-01', to: '2026-04-01' });
    expect(text).toContain('metrics: aum, purchase_conversion_rate');
    expect(text).toContain('group by: metric_time__month, customer__channel');
    expect(text).toContain('time range: [2026-01-01, 2026-04-01)');
    expect(text).toMatch(/n0 aggregate holding \[wealth\.holdings_daily\] by as_of \(day\)/);
    expect(text).toContain('join: customer -> customer [wealth.customers]');
    expect(text).toMatch(/purchase_conversion_rate = \(COALESCE\(n\d\.l\d, 0\) \/ NULLIF\(COALESCE\(n\d\.l\d, 0\), 0\)\)/);
    expect(text).toContain('semi-additive (n0): only rows at the last as_of count');
  });

  it('takes the whole query as JSON (the API form) and prints the plan as JSON', () => {
    const query = JSON.stringify({
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
      where: { dimension: 'customer.channel', op: 'EQ', values: ['app'] },
    });
    const plan = JSON.parse(explain({ query, json: true })) as { nodes: { filters: unknown[] }[]; sources: Record<string, string> };
    expect(plan.nodes[0]?.filters).toContainEqual({ kind: 'compare', dimension: 'customer.channel', op: 'EQ', values: ['app'] });
    expect(plan.sources).toMatchObject({ transaction: 'wealth.transactions', customer: 'wealth.customers' });
  });

  it('answers a bad query with one coded line and a non-zero exit, as every command does', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', resolve(REPO, 'api/cli.ts'), 'explain', ...args], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, LOG_LEVEL: 'warn' },
      });
    const unknown = run(['--metrics', 'no_such_metric']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^strata: .*no_such_metric/)]);
    const badGrain = run(['--metrics', 'aum', '--group-by', 'metric_time:FORTNIGHT']);
    expect(badGrain.stderr.trim()).toMatch(/^strata: unknown grain 'FORTNIGHT'/);
    const ok = run(['--metrics', 'aum', '--group-by', 'metric_time:MONTH']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('n0 aggregate holding');
  }, 60_000);
});
