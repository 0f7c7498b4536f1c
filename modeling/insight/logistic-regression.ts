/** A training row: the indexes of its active one-hot columns, and its label. */
export interface SparseRow {
  readonly columns: readonly number[];
  readonly label: boolean;
}

export interface LogisticModel {
  readonly intercept: number;
  /** One weight per column. */
  readonly weights: readonly number[];
  readonly iterations: number;
}

export interface FitOptions {
  /** L2 penalty (lambda / 2) x sum of squared weights, the intercept not penalized; default 1. */
  readonly l2?: number;
  readonly maxIterations?: number;
  /** Stop when no coefficient moves more than this; default 1e-10. */
  readonly tolerance?: number;
}

/**
 * L2-regularized logistic regression over one-hot (0/1) columns by iteratively reweighted
 * least squares (Newton's method on the penalized log-likelihood
 * `sum(log-loss) + (l2 / 2) * |w|^2`, intercept unpenalized), solved with a Cholesky
 * factorization. Deterministic: the same rows in the same order give the same model.
 *
 * ```ts
 * const model = fitLogistic([{ columns: [0], label: true }, { columns: [], label: false }], 1);
 * ```
 */
export function fitLogistic(rows: readonly SparseRow[], columns: number, options: FitOptions = {}): LogisticModel {
  const l2 = options.l2 ?? 1;
  const size = columns + 1; // the intercept is the last coefficient
  const beta = new Float64Array(size);
  const maxIterations = options.maxIterations ?? 50;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const gradient = new Float64Array(size);
    const hessian = new Float64Array(size * size);
    for (const row of rows) {
      let eta = beta[columns] as number;
      for (const c of row.columns) eta += beta[c] as number;
      const p = 1 / (1 + Math.exp(-eta));
      const residual = (row.label ? 1 : 0) - p;
      const w = Math.max(p * (1 - p), 1e-12);
      const active = [...row.columns, columns];
      for (const i of active) {
        gradient[i] = (gradient[i] as number) + residual;
        for (const j of active) hessian[i * size + j] = (hessian[i * size + j] as number) + w;
      }
    }
    for (let i = 0; i < columns; i++) {
      gradient[i] = (gradient[i] as number) - l2 * (beta[i] as number);
      hessian[i * size + i] = (hessian[i * size + i] as number) + l2;
    }
    const step = solveCholesky(hessian, gradient, size);
    let largest = 0;
    for (let i = 0; i < size; i++) {
      beta[i] = (beta[i] as number) + (step[i] as number);
      largest = Math.max(largest, Math.abs(step[i] as number));
    }
    if (largest < (options.tolerance ?? 1e-10)) {
      iterations++;
      break;
    }
  }
  return { intercept: beta[columns] as number, weights: Array.from(beta.subarray(0, columns)), iterations };
}

/** The linear score (log-odds) of a row. */
export function scoreRow(model: LogisticModel, columns: readonly number[]): number {
  return columns.reduce((s, c) => s + (model.weights[c] ?? 0), model.intercept);
}

/** Solves A x = b for a symmetric positive definite A (row-major, n x n). */
function solveCholesky(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j] as number;
      for (let k = 0; k < j; k++) sum -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (sum <= 0) throw new Error('logistic regression: the Hessian is not positive definite');
        l[i * n + i] = Math.sqrt(sum);
      } else l[i * n + j] = sum / (l[j * n + j] as number);
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = sum / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k++) sum -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = sum / (l[i * n + i] as number);
  }
  return x;
}
