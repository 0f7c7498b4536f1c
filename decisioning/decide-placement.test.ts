import { describe, expect, it } from 'vitest';
import { buildDecisionModel, type TargetedCustomer } from './decision-model.ts';
import { decidePlacement } from './decide-placement.ts';
import type { ContentSpec, DecisionDefinitions, ExperimentSpec, PlacementSpec, StrategySpec } from './definitions.ts';
import type { ImpressionCount } from './fatigue.ts';

const TZ = 'Asia/Shanghai';
const types = {
  dimensionType: () => 'string' as const,
  tagType: (key: string) => (key === 'fund_buyer_30d' || key === 'new_customer_30d' ? ('boolean' as const) : ('string' as const)),
};

const content = (key: string, extra: Partial<ContentSpec> = {}): ContentSpec => ({
  key,
  placement: 'home_banner',
  description: key,
  payload: { title: key },
  validFrom: null,
  validTo: null,
  ...extra,
});
const strategy = (key: string, extra: Partial<StrategySpec>): StrategySpec => ({
  key,
  placement: 'home_banner',
  description: key,
  audience: null,
  rule: null,
  contents: [],
  experiment: null,
  priority: 0,
  trafficShare: 1,
  scheduleFrom: null,
  scheduleTo: null,
  ...extra,
});
const placement = (extra: Partial<PlacementSpec> = {}): PlacementSpec => ({
  key: 'home_banner',
  channel: 'app',
  page: 'home',
  description: 'banner',
  slots: 1,
  contentSchema: { type: 'object' },
  fallback: 'default',
  fatigue: [],
  ...extra,
});

function modelOf(defs: Partial<DecisionDefinitions>) {
  return buildDecisionModel(
    {
      placements: defs.placements ?? [placement()],
      contents: [content('default'), content('a'), content('b'), content('c'), ...(defs.contents ?? [])],
      strategies: defs.strategies ?? [],
      experiments: defs.experiments ?? [],
    },
    types,
    TZ,
  );
}

const customer = (id: string, tags: Record<string, unknown> = {}, audiences: string[] = []): TargetedCustomer => ({
  id,
  known: true,
  tags,
  audiences: new Set(audiences),
});
const NOW = new Date('2026-06-10T04:00:00Z'); // 12:00 in Shanghai, a Wednesday

function decide(defs: Partial<DecisionDefinitions>, who: TargetedCustomer, counts: ImpressionCount[] = [], now = NOW) {
  const model = modelOf(defs);
  return decidePlacement({ placement: model.placements.get('home_banner') as never, customer: who, counts, now, timeZone: TZ });
}

describe('choosing a strategy', () => {
  const strategies = [
    strategy('fund_push', { rule: { tag: 'fund_buyer_30d', op: 'EQ', values: ['false'] }, contents: ['a'], priority: 10 }),
    strategy('vip', { audience: 'hnw_dormant', contents: ['b'], priority: 20 }),
  ];

  it('takes the highest-priority strategy whose targeting matches the profile', () => {
    const both = decide({ strategies }, customer('c1', { fund_buyer_30d: false }, ['hnw_dormant']));
    expect([both.strategy, both.content.key, both.fallback]).toEqual(['vip', 'b', false]);
    expect(both.reason).toContain("strategy 'vip' (priority 20) matched audience 'hnw_dormant'");
    const ruleOnly = decide({ strategies }, customer('c2', { fund_buyer_30d: false }));
    expect([ruleOnly.strategy, ruleOnly.content.key]).toEqual(['fund_push', 'a']);
  });

  it('falls back when nothing matches, and for an unknown customer, with the reason', () => {
    const none = decide({ strategies }, customer('c3', { fund_buyer_30d: true }));
    expect([none.fallback, none.content.key, none.strategy]).toEqual([true, 'default', null]);
    expect(none.reason).toMatch(/no live strategy matched; shows the fallback 'default'/);
    const unknown = decide({ strategies }, { id: 'nobody', known: false, tags: {}, audiences: new Set() });
    expect(unknown.fallback).toBe(true);
    expect(unknown.reason).toMatch(/has no profile/);
  });

  it('treats a missing tag value as unknown (no match), as SQL would', () => {
    expect(decide({ strategies }, customer('c4', {})).fallback).toBe(true);
  });

  it('serves a strategy only inside its schedule window, half-open', () => {
    const scheduled = [strategy('spring', { contents: ['a'], scheduleFrom: '2026-06-10T04:00:00Z', scheduleTo: '2026-06-11T00:00:00+08:00' })];
    expect(decide({ strategies: scheduled }, customer('c5'), [], new Date('2026-06-10T03:59:59Z')).fallback).toBe(true);
    expect(decide({ strategies: scheduled }, customer('c5'), [], NOW).strategy).toBe('spring');
    expect(decide({ strategies: scheduled }, customer('c5'), [], new Date('2026-06-10T16:00:00Z')).fallback).toBe(true);
  });

  it('skips a content outside its validity window to the next one', () => {
    const expired = content('old', { validTo: '2026-06-01T00:00:00Z' });
    const d = decide({ contents: [expired], strategies: [strategy('s', { contents: ['old', 'a'] })] }, customer('c6'));
    expect(d.content.key).toBe('a');
    expect(d.reason).toContain("content 'old' is outside its validity window");
  });
});

describe('an incomplete placement', () => {
  it('is left out of the model, with the reason, while the others are served', () => {
    const model = buildDecisionModel(
      {
        placements: [placement(), placement({ key: 'waiting', fallback: 'not_yet' })],
        contents: [content('default')],
        strategies: [],
        experiments: [],
      },
      types,
      TZ,
    );
    expect([...model.placements.keys()]).toEqual(['home_banner']);
    expect(model.incomplete.get('waiting')).toBe("its fallback content 'not_yet' is not published yet");
  });

  it('serves nobody through a stored rule the language refuses, and the rest as before', () => {
    const strategies = [
      strategy('broken', { rule: { tag: 'fund_buyer_30d', op: 'LIKE', values: ['x'] }, contents: ['a'], priority: 9 }),
      strategy('fine', { contents: ['b'] }),
    ];
    expect(decide({ strategies }, customer('r1')).strategy).toBe('fine');
  });
});

describe('traffic allocation', () => {
  const ids = Array.from({ length: 100_000 }, (_, i) => `c${String(i).padStart(7, '0')}`);

  it('splits one priority level by the shares within 1 % over 100,000 customers, the rest going lower', () => {
    const strategies = [
      strategy('x', { contents: ['a'], priority: 5, trafficShare: 0.3 }),
      strategy('y', { contents: ['b'], priority: 5, trafficShare: 0.5 }),
      strategy('z', { contents: ['c'], priority: 1 }),
    ];
    const model = modelOf({ strategies });
    const live = model.placements.get('home_banner');
    const tally = new Map<string, number>();
    for (const id of ids) {
      const d = decidePlacement({ placement: live as never, customer: customer(id), counts: [], now: NOW, timeZone: TZ });
      tally.set(d.strategy ?? 'fallback', (tally.get(d.strategy ?? 'fallback') ?? 0) + 1);
    }
    expect(Math.abs((tally.get('x') ?? 0) / ids.length - 0.3)).toBeLessThan(0.01);
    expect(Math.abs((tally.get('y') ?? 0) / ids.length - 0.5)).toBeLessThan(0.01);
    expect(Math.abs((tally.get('z') ?? 0) / ids.length - 0.2)).toBeLessThan(0.01);
    expect(tally.get('fallback')).toBeUndefined();
  });

  it('gives a customer the same strategy on every call and in a freshly built model', () => {
    const strategies = [strategy('x', { contents: ['a'], trafficShare: 0.5 }), strategy('y', { contents: ['b'], trafficShare: 0.5 })];
    const first = ids.slice(0, 2000).map((id) => decide({ strategies }, customer(id)).strategy);
    const again = ids.slice(0, 2000).map((id) => decide({ strategies }, customer(id)).strategy);
    expect(again).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['x', 'y']));
  });
});

describe('experiments', () => {
  const experiment: ExperimentSpec = {
    key: 'copy_test',
    placement: 'home_banner',
    description: 'copy',
    seed: 'copy_test',
    coverage: 1,
    variants: [
      { key: 'control', weight: 0.5, content: 'a' },
      { key: 'treatment', weight: 0.5, content: 'b' },
    ],
    holdoutShare: null,
    goal: { metric: null, event: 'purchase_success', windowDays: 7 },
    guardrails: [],
  };

  it('shows the assigned arm, about half each, and names it in the reason', () => {
    const strategies = [strategy('test', { experiment: 'copy_test', contents: [] })];
    const arms = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const d = decide({ strategies, experiments: [experiment] }, customer(`u${i}`));
      expect(d.content.key).toBe(d.variant === 'control' ? 'a' : 'b');
      arms.set(d.variant as string, (arms.get(d.variant as string) ?? 0) + 1);
    }
    expect(Math.abs((arms.get('control') ?? 0) / 20_000 - 0.5)).toBeLessThan(0.02);
    const one = decide({ strategies, experiments: [experiment] }, customer('u1'));
    expect(one.reason).toContain("experiment 'copy_test' assigned arm");
  });

  it('passes customers outside coverage to the next strategy', () => {
    const strategies = [strategy('test', { experiment: 'copy_test', priority: 9 }), strategy('rest', { contents: ['c'], priority: 1 })];
    const partial = { ...experiment, coverage: 0.2 };
    const outcomes = Array.from({ length: 5000 }, (_, i) => decide({ strategies, experiments: [partial] }, customer(`v${i}`)));
    const inTest = outcomes.filter((d) => d.experiment === 'copy_test').length / outcomes.length;
    expect(Math.abs(inTest - 0.2)).toBeLessThan(0.02);
    const out = outcomes.find((d) => d.experiment === null);
    expect(out?.strategy).toBe('rest');
    expect(out?.reason).toContain('not in experiment');
  });
});

describe('fatigue', () => {
  const rolling = placement({ fatigue: [{ scope: 'CONTENT', maxImpressions: 3, windowDays: 7, period: null }] });
  const weekly = placement({ fatigue: [{ scope: 'PLACEMENT', maxImpressions: 2, windowDays: null, period: 'WEEK' }] });
  const strategies = [strategy('s', { contents: ['a', 'b'] })];
  const seen = (content: string, day: string, impressions: number): ImpressionCount => ({ placement: 'home_banner', content, day, impressions });

  it('skips a capped content to the next one, then to the fallback', () => {
    const capped = decide({ placements: [rolling], strategies }, customer('f1'), [seen('a', '2026-06-08', 3)]);
    expect(capped.content.key).toBe('b');
    expect(capped.reason).toContain("content 'a' capped by fatigue (3 seen, at most 3 per 7 days per content)");
    const both = decide({ placements: [rolling], strategies }, customer('f1'), [seen('a', '2026-06-08', 3), seen('b', '2026-06-10', 3)]);
    expect([both.fallback, both.content.key]).toEqual([true, 'default']);
  });

  it('counts a rolling window of 7 days including today, in the reporting time zone', () => {
    // On 2026-06-10 (Shanghai) the window is 06-04 .. 06-10: impressions of 06-03 have left it.
    expect(decide({ placements: [rolling], strategies }, customer('f2'), [seen('a', '2026-06-04', 3)]).content.key).toBe('b');
    expect(decide({ placements: [rolling], strategies }, customer('f2'), [seen('a', '2026-06-03', 3)]).content.key).toBe('a');
    // 2026-06-10T16:30Z is already 06-11 in Shanghai: 06-04 has left the window too.
    expect(decide({ placements: [rolling], strategies }, customer('f2'), [seen('a', '2026-06-04', 3)], new Date('2026-06-10T16:30:00Z')).content.key).toBe('a');
  });

  it('counts a calendar week from Monday in the reporting time zone, and a placement cap covers every content', () => {
    // 2026-06-10 is a Wednesday: its week starts Monday 06-08.
    const thisWeek = [seen('a', '2026-06-08', 1), seen('b', '2026-06-09', 1)];
    expect(decide({ placements: [weekly], strategies }, customer('f3'), thisWeek).fallback).toBe(true);
    const lastWeek = [seen('a', '2026-06-07', 1), seen('b', '2026-06-09', 1)];
    expect(decide({ placements: [weekly], strategies }, customer('f3'), lastWeek).content.key).toBe('a');
    // Sunday 2026-06-14 23:30 in Shanghai is still the same week; Monday 00:30 starts the next.
    expect(decide({ placements: [weekly], strategies }, customer('f3'), thisWeek, new Date('2026-06-14T15:30:00Z')).fallback).toBe(true);
    expect(decide({ placements: [weekly], strategies }, customer('f3'), thisWeek, new Date('2026-06-14T16:30:00Z')).content.key).toBe('a');
  });

  it('never caps the fallback', () => {
    const d = decide({ placements: [weekly], strategies: [] }, customer('f4'), [seen('default', '2026-06-10', 99)]);
    expect([d.fallback, d.content.key]).toEqual([true, 'default']);
  });
});
