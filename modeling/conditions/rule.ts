import type { AggregateLeaf, Condition, DimensionLeaf, TagLeaf } from '../catalog/condition.ts';

export { aggregateKey, leaves, type AggregateRef, type DayWindow } from '../catalog/condition.ts';

/**
 * A condition of tags, audiences, access scopes and strategy targeting: leaves compare a
 * subject dimension (no grain), another tag, or a per-subject aggregate of a measure over a
 * trailing window. The same AST as metric filters (`Condition`).
 */
export type Rule = Condition<DimensionLeaf<never> | TagLeaf | AggregateLeaf>;

export type Leaf = DimensionLeaf<never> | TagLeaf | AggregateLeaf;
