/** RowDescription messages of the endpoint's own answers, and the result format a client asked for each column. */
import type { OutputColumn } from '../../modeling/sql-interface/translate-select.ts';
import { TYPE_INFO } from './sql-values.ts';
import * as wire from './wire.ts';

/** The RowDescription of `SHOW name`: one text column named after the setting. */
export function showDescription(name: string): Buffer {
  return wire.rowDescription([{ name, typeOid: 25, typeSize: -1, format: 0 }]);
}

/** The format code (0 text, 1 binary) of a column: none given is text, one given applies to all. */
export function formatAt(formats: readonly number[], index: number): number {
  return formats.length === 0 ? 0 : formats.length === 1 ? (formats[0] as number) : (formats[index] ?? 0);
}

/** The RowDescription of a metric statement's columns. */
export function rowDescriptionOf(columns: readonly OutputColumn[], resultFormats: readonly number[]): Buffer {
  return wire.rowDescription(
    columns.map((c, i) => ({
      name: c.name,
      typeOid: TYPE_INFO[c.type].oid,
      typeSize: TYPE_INFO[c.type].size,
      format: formatAt(resultFormats, i) === 1 ? 1 : 0,
    })),
  );
}
