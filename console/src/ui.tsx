import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { messageOf } from './api.ts';
import { useFormats } from './locale.ts';
import { hrefOf } from './route.ts';
import { metricFormat, useSession } from './session.tsx';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: string | null;
  readonly loading: boolean;
  reload(): void;
}

/** Runs `load` when `key` changes (one request per widget) and keeps its answer or the server's message. */
export function useLoad<T>(load: (() => Promise<T>) | null, key: string): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | null; loading: boolean }>({ data: undefined, error: null, loading: load !== null });
  const [round, setRound] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` says when the load changes; `round` reloads.
  useEffect(() => {
    const run = loader.current;
    if (!run) {
      setState({ data: undefined, error: null, loading: false });
      return;
    }
    let live = true;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    run().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error: messageOf(error), loading: false }),
    );
    return () => {
      live = false;
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

export function Loading({ when }: { when: boolean }) {
  const { tr } = useFormats();
  return when ? <p className="muted">{tr('加载中…', 'Loading…')}</p> : null;
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
