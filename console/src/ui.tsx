import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, messageOf, retryDelayOf } from './api.ts';
import { useFormats } from './locale.ts';
import { hrefOf } from './route.ts';
import { metricFormat, useSession } from './session.tsx';

/** A read the server refused only for now, asked again after its Retry-After. */
export interface Retrying {
  /** The refusal's code: RATE_LIMITED or UNAVAILABLE. */
  readonly code: string;
  /** The wait before the next attempt (the refusal's Retry-After). */
  readonly seconds: number;
  /** Which retry comes next (1 for the first). */
  readonly attempt: number;
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: string | null;
  /** True from the first request until an answer or a final failure, retries included. */
  readonly loading: boolean;
  /** Set while waiting to ask again after a refusal that said "later" (see `useLoad`). */
  readonly retrying: Retrying | null;
  reload(): void;
}

/** How often a read refused with RATE_LIMITED or UNAVAILABLE is asked again before its refusal is shown. */
export const LOAD_RETRIES = 5;

/**
 * Runs `load` when `key` changes (one request per widget) and keeps its answer or the
 * server's message. A refusal that asks to come back later (RATE_LIMITED when the server's
 * analytics capacity is taken, UNAVAILABLE while its database is out of reach) is not the
 * widget's answer: the load is asked again after the refusal's Retry-After, up to
 * `LOAD_RETRIES` times, still loading meanwhile and saying so (`retrying`).
 */
export function useLoad<T>(load: (() => Promise<T>) | null, key: string): Loaded<T> {
  const [state, setState] = useState<Omit<Loaded<T>, 'reload'>>({ data: undefined, error: null, loading: load !== null, retrying: null });
  const [round, setRound] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` says when the load changes; `round` reloads.
  useEffect(() => {
    const run = loader.current;
    if (!run) {
      setState({ data: undefined, error: null, loading: false, retrying: null });
      return;
    }
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = (retries: number): void =>
      void run().then(
        (data) => live && setState({ data, error: null, loading: false, retrying: null }),
        (error: unknown) => {
          if (!live) return;
          const wait = retryDelayOf(error);
          if (wait !== null && error instanceof ApiError && retries < LOAD_RETRIES) {
            const retrying = { code: error.code, seconds: wait, attempt: retries + 1 };
            setState((previous) => ({ ...previous, loading: true, error: null, retrying }));
            timer = setTimeout(() => live && attempt(retries + 1), wait * 1000);
            return;
          }
          setState({ data: undefined, error: messageOf(error), loading: false, retrying: null });
        },
      );
    setState((previous) => ({ ...previous, loading: true, error: null, retrying: null }));
    attempt(0);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

export function ErrorNote({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error}
    </p>
  );
}

/** "Loading…" while `when`; while a refused read waits to be asked again, also why and for how long. */
export function Loading({ when, retrying }: { when: boolean; retrying?: Retrying | null }) {
  const { tr } = useFormats();
  if (!when) return null;
  return (
    <>
      <p className="muted">{tr('加载中…', 'Loading…')}</p>
      {retrying ? (
        <p className="muted small" role="status" data-testid="load-retrying" data-code={retrying.code}>
          {retrying.code === 'RATE_LIMITED'
            ? tr(
                `服务器繁忙 (${retrying.code})，${retrying.seconds} 秒后重试（第 ${retrying.attempt} 次）`,
                `The server is busy (${retrying.code}); asking again in ${retrying.seconds} s (retry ${retrying.attempt})`,
              )
            : tr(
                `服务器暂不可用 (${retrying.code})，${retrying.seconds} 秒后重试（第 ${retrying.attempt} 次）`,
                `The server is unavailable for now (${retrying.code}); asking again in ${retrying.seconds} s (retry ${retrying.attempt})`,
              )}
        </p>
      ) : null}
    </>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  return (
    <section className="card" aria-label={title} id={id}>
      <header className="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** A metric's number: links to the explorer with the query that produced it (its governed definition and plan). */
export function MetricValue({ metric, value, query, testId }: { metric: string; value: number | null | undefined; query?: object; testId?: string }) {
  const formats = useFormats();
  const { catalog } = useSession();
  const definition = catalog.metrics.find((m) => m.name === metric);
  return (
    <a
      className="number"
      href={hrefOf('explorer', { metric, q: query })}
      title={`${metric}: ${definition?.description ?? ''}`}
      data-testid={testId}
      data-value={value ?? ''}
    >
      {formats.value(value, metricFormat(definition))}
    </a>
  );
}

/** JSON for reading and copying: a read-only text box (reachable and scrollable by keyboard). */
export function Json({ value, label = 'JSON' }: { value: unknown; label?: string }) {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return <textarea className="json" readOnly aria-label={label} value={text} rows={Math.min(24, text.split('\n').length + 1)} spellCheck={false} />;
}

export interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => ReactNode;
  readonly numeric?: boolean;
}

export function Table<T>({
  columns,
  rows,
  caption,
  rowKey,
}: {
  columns: readonly Column<T>[];
  rows: readonly T[];
  caption: string;
  rowKey: (row: T, i: number) => string;
}) {
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.title} scope="col" className={c.numeric ? 'num' : undefined}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={rowKey(row, i)}>
              {columns.map((c) => (
                <td key={c.title} className={c.numeric ? 'num' : undefined}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{status}</span>;
}

/** A button that runs an action and shows its outcome (the server's message when refused). */
export function ActionButton({ label, run, disabled, testId }: { label: string; run: () => Promise<unknown>; disabled?: boolean; testId?: string }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  return (
    <span className="action">
      <button
        type="button"
        data-testid={testId}
        disabled={disabled || state.busy}
        onClick={() => {
          setState({ busy: true, error: null });
          run().then(
            () => setState({ busy: false, error: null }),
            (error: unknown) => setState({ busy: false, error: messageOf(error) }),
          );
        }}
      >
        {label}
      </button>
      <ErrorNote error={state.error} />
    </span>
  );
}
