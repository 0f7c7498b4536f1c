/**
 * One report of a long task's progress: it is at step `step` of `steps` (1-based), named
 * `stage`; a stage that counts something also says how many of how many (`done` of
 * `total` `unit`). Reported at each stage's start and as its count advances.
 */
export interface ProgressEvent {
  readonly step: number;
  readonly steps: number;
  /** What the step does, in words: `recording coverage and drift`. */
  readonly stage: string;
  readonly done?: number;
  readonly total?: number;
  /** What `done` and `total` count: `customers`. */
  readonly unit?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;
