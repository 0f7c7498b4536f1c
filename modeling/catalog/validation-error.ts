/** One problem in a set of definitions, located by its path (e.g. `models.customer.measures.aum`). */
export interface Problem {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** Every problem found while building a catalog, reported at once. */
export class CatalogValidationError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the definitions:\n${problems.map((p) => `  ${p.path}: ${p.message} [${p.code}]`).join('\n')}`,
    );
  }
}

/** Collects problems while validating; `throwIfAny` reports them all together. */
export class ProblemCollector {
  readonly problems: Problem[] = [];

  add(path: string, code: string, message: string): void {
    this.problems.push({ path, code, message });
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new CatalogValidationError(this.problems);
  }
}
