import { useFormats } from './locale.ts';
import type { Change, HistoryEntry } from './review-diff.ts';
import { StatusBadge } from './ui.tsx';

/** One entry of a governed definition's history (tags, monitors): who did what, when and why. */
export interface ReviewHistoryEntry extends HistoryEntry {
  readonly actor: string;
  readonly action: string;
  readonly reason?: string | null;
}

export function HistoryTable({ history, testId = 'tag-history' }: { history: readonly ReviewHistoryEntry[]; testId?: string }) {
  const formats = useFormats();
  const { tr } = formats;
  return (
    <table data-testid={testId}>
      <caption>{tr('历史', 'History')}</caption>
      <thead>
        <tr>
          <th scope="col">{tr('版本', 'Version')}</th>
          <th scope="col">{tr('动作', 'Action')}</th>
          <th scope="col">{tr('状态', 'Status')}</th>
          <th scope="col">{tr('操作人', 'Actor')}</th>
          <th scope="col">{tr('时间', 'At')}</th>
          <th scope="col">{tr('原因', 'Reason')}</th>
        </tr>
      </thead>
      <tbody>
        {history.map((entry) => (
          <tr key={`${entry.version}-${entry.at}-${entry.action}`}>
            <td>{entry.version}</td>
            <td>{entry.action}</td>
            <td>
              <StatusBadge status={entry.status} />
            </td>
            <td>{entry.actor}</td>
            <td>{formats.dateTime(entry.at)}</td>
            <td>{entry.reason ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Diff({ changes, what }: { changes: Change[] | null; what?: { zh: string; en: string } }) {
  const { tr } = useFormats();
  if (changes === null)
    return (
      <p className="muted">
        {what
          ? tr(`新${what.zh}：尚无已发布版本。`, `A new ${what.en}: no version was published yet.`)
          : tr('新标签：尚无已发布版本，以下为完整定义。', 'A new tag: no version was published; the whole definition is below.')}
      </p>
    );
  if (changes.length === 0) return <p className="muted">{tr('与已发布版本相同', 'Same as the published version')}</p>;
  return (
    <table className="diff" data-testid="review-diff">
      <caption>{tr('与已发布版本的差异', 'Changes against the published version')}</caption>
      <thead>
        <tr>
          <th scope="col">{tr('路径', 'Path')}</th>
          <th scope="col">{tr('已发布', 'Published')}</th>
          <th scope="col">{tr('待审', 'Under review')}</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.path}>
            <td>
              <code>{c.path}</code>
            </td>
            <td className="removed">
              <code>{JSON.stringify(c.from)}</code>
            </td>
            <td className="added">
              <code>{JSON.stringify(c.to)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
