import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionKey, checkDefinitionText } from '../modeling/catalog/definition-text.ts';
import { leaves } from '../modeling/conditions/rule.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import { contentValidator } from './content-schema.ts';
import type { ContentSpec, ExperimentSpec, FatigueRule, PlacementSpec, StrategySpec } from './definitions.ts';

function refuse(path: string, message: string): never {
  throw new StrataError('BAD_USER_INPUT', `${path}: ${message}`, { path });
}

const isInstant = (text: string) => /^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(Date.parse(text));

function checkWindow(from: string | null, to: string | null, path: string): void {
  for (const [name, value] of Object.entries({ from, to }))
    if (value !== null && !isInstant(value)) refuse(`${path}.${name}`, `'${value}' is not an ISO 8601 instant such as 2026-06-01T00:00:00+08:00`);
  if (from !== null && to !== null && Date.parse(from) >= Date.parse(to)) refuse(path, 'the window ends before it starts');
}

function checkShare(value: number, path: string, { zero }: { zero: boolean }): void {
  if (!Number.isFinite(value) || value > 1 || value < 0 || (!zero && value === 0))
    refuse(path, `${value} must be a share ${zero ? 'from 0' : 'above 0'} up to 1`);
}

function checkFatigue(rule: FatigueRule, path: string): void {
  if (!Number.isSafeInteger(rule.maxImpressions) || rule.maxImpressions < 1) refuse(`${path}.maxImpressions`, 'a whole number of at least 1');
  if ((rule.windowDays === null) === (rule.period === null)) refuse(path, 'give exactly one of windowDays (a rolling window) and period (DAY, WEEK or MONTH)');
  if (rule.windowDays !== null && (!Number.isSafeInteger(rule.windowDays) || rule.windowDays < 1 || rule.windowDays > 366))
    refuse(`${path}.windowDays`, 'whole days from 1 to 366');
}

/** A placement's own fields: key, texts, slots, a compilable content schema, fatigue rules. */
export function checkPlacement(spec: PlacementSpec): void {
  checkDefinitionKey(spec.key);
  checkDefinitionKey(spec.fallback, 'fallback');
  checkDefinitionText('description', spec.description);
  if (!spec.page.trim() || spec.page.length > 200) refuse('page', 'a page name of 1-200 characters');
  if (!Number.isSafeInteger(spec.slots) || spec.slots < 1 || spec.slots > 20) refuse('slots', 'from 1 to 20');
  contentValidator(spec.contentSchema);
  if (spec.fatigue.length > 10) refuse('fatigue', 'at most 10 rules');
  spec.fatigue.forEach((rule, i) => checkFatigue(rule, `fatigue[${i}]`));
}

/** A content's own fields (its payload is checked against the placement's schema by the caller, who knows it). */
export function checkContent(spec: ContentSpec): void {
  checkDefinitionKey(spec.key);
  checkDefinitionKey(spec.placement, 'placement');
  checkDefinitionText('description', spec.description);
  if (JSON.stringify(spec.payload ?? null).length > 20_000) refuse('payload', 'at most 20,000 characters of JSON');
  checkWindow(spec.validFrom, spec.validTo, 'validity');
}

/**
 * A strategy's own fields; its rule must read only tags, which the profile holds (a customer
 * dimension or an aggregate is tagged first, so targeting never queries per decision).
 */
export function checkStrategy(spec: StrategySpec): void {
  checkDefinitionKey(spec.key);
  checkDefinitionKey(spec.placement, 'placement');
  checkDefinitionText('description', spec.description);
  if (spec.audience !== null && spec.rule !== null) refuse('audience', 'target an audience or a rule, not both');
  if (spec.audience !== null) checkDefinitionKey(spec.audience, 'audience');
  if (spec.rule !== null) {
    const other = leaves(parseRule(spec.rule)).find((leaf) => leaf.kind !== 'tag');
    if (other)
      refuse(
        'rule',
        `targeting reads the customer's profile, so a rule compares published tags only; ${other.kind === 'compare' ? `'${other.dimension}'` : 'an aggregate'} needs a tag first`,
      );
  }
  if ((spec.contents.length === 0) === (spec.experiment === null)) refuse('contents', 'give ordered contents or an experiment (one of them)');
  spec.contents.forEach((key, i) => checkDefinitionKey(key, `contents[${i}]`));
  if (new Set(spec.contents).size !== spec.contents.length) refuse('contents', 'a content is listed twice');
  if (!Number.isSafeInteger(spec.priority) || Math.abs(spec.priority) > 1_000_000) refuse('priority', 'a whole number from -1,000,000 to 1,000,000');
  checkShare(spec.trafficShare, 'trafficShare', { zero: false });
  checkWindow(spec.scheduleFrom, spec.scheduleTo, 'schedule');
}

/** An experiment's own fields: at least two variants with positive weights, coverage and holdout shares, a goal. */
export function checkExperiment(spec: ExperimentSpec): void {
  checkDefinitionKey(spec.key);
  checkDefinitionKey(spec.placement, 'placement');
  checkDefinitionText('description', spec.description);
  if (!spec.seed || spec.seed.length > 200) refuse('seed', '1-200 characters');
  checkShare(spec.coverage, 'coverage', { zero: false });
  if (spec.holdoutShare !== null) checkShare(spec.holdoutShare, 'holdoutShare', { zero: true });
  if (spec.variants.length < 2 || spec.variants.length > 20) refuse('variants', 'from 2 to 20 variants; the first is the control');
  spec.variants.forEach((v, i) => {
    if (!/^[a-z0-9][a-z0-9_]{0,62}$/.test(v.key)) refuse(`variants[${i}].key`, `${quoteInput(v.key)} must be 1-63 lower-case letters, digits or '_'`);
    checkDefinitionKey(v.content, `variants[${i}].content`);
    if (!Number.isFinite(v.weight) || v.weight <= 0) refuse(`variants[${i}].weight`, 'a positive number');
  });
  if (new Set(spec.variants.map((v) => v.key)).size !== spec.variants.length) refuse('variants', 'variant keys must differ');
  if ((spec.goal.metric === null) === (spec.goal.event === null)) refuse('goal', 'name a metric or a conversion event (one of them)');
  if (!Number.isSafeInteger(spec.goal.windowDays) || spec.goal.windowDays < 1 || spec.goal.windowDays > 90)
    refuse('goal.windowDays', 'whole days from 1 to 90');
  if (spec.guardrails.length > 10) refuse('guardrails', 'at most 10 metrics');
}
