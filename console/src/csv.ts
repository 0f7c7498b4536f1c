/** A result as CSV (RFC 4180 quoting), columns in the answer's order. */
export function resultCsv(result: {
  readonly columns: readonly { readonly name: string }[];
  readonly rows: readonly { readonly [column: string]: unknown }[];
}): string {
  const quote = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const names = result.columns.map((c) => c.name);
  return `${[names.map(quote).join(','), ...result.rows.map((row) => names.map((n) => quote(row[n])).join(','))].join('\r\n')}\r\n`;
}
