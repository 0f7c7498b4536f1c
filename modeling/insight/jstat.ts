import { createRequire } from 'node:module';

/** The part of `jstat` (a CommonJS package without types) that the insight statistics use. */
interface JStat {
  readonly chisquare: { cdf(x: number, dof: number): number };
}

/** `jstat`'s distributions, loaded once; only the chi-square CDF is used here. */
export const jstat = createRequire(import.meta.url)('jstat') as JStat;
