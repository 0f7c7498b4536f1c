/** A catalog statement answered by the catalog mirror, in one exchange of protocol messages. */
import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';
import { admit, audit, type Answer, type SessionContext } from './session-context.ts';
import { sqlCatalog } from './sql-catalog.ts';
import * as wire from './wire.ts';

/** A portal's binding of a catalog statement: parameter types, formats and values, result formats. */
export interface CatalogBinding {
  readonly paramTypes: readonly number[];
  readonly paramFormats: readonly number[];
  readonly values: readonly (Buffer | null)[];
  readonly resultFormats: readonly number[];
}

/** Runs a catalog statement on the mirror: Parse, Bind, Describe, Execute, Sync in one exchange. */
export async function runCatalog(ctx: SessionContext, text: string, portal: CatalogBinding): Promise<Answer> {
  const startedAt = performance.now();
  admit(ctx, 'catalog');
  const { ddl } = sqlCatalog(await ctx.services.semantic());
  const request = Buffer.concat([
    wire.parseMessage(text, portal.paramTypes),
    wire.bindMessage(portal.paramFormats, portal.values, portal.resultFormats),
    wire.describeMessage('P'),
    wire.executeMessage(),
    wire.syncMessage(),
  ]);
  const reply = wire.splitMessages(await ctx.services.mirror.exchange(ddl, request));
  let description: Buffer | undefined;
  const rows: Buffer[] = [];
  let tag = '';
  let empty = false;
  for (const { type, message } of reply) {
    if (type === 'T') description = message;
    else if (type === 'D') rows.push(message);
    else if (type === 'C') tag = message.toString('utf8', 5, message.length - 1);
    else if (type === 'I') empty = true;
    else if (type === 'E') {
      const fields = wire.readErrorFields(message);
      const position = fields.get('P');
      throw new SqlInterfaceError(fields.get('C') ?? 'XX000', fields.get('M') ?? 'error', fields.get('H'), position ? Number(position) : undefined);
    }
  }
  audit(ctx, { kind: 'catalog', rows: rows.length }, startedAt);
  return { description, rows, tag, empty };
}

/** Describes a prepared catalog statement on the mirror: sends its ParameterDescription and RowDescription (or NoData). */
export async function describeCatalog(ctx: SessionContext, text: string, paramTypes: readonly number[]): Promise<void> {
  const { ddl } = sqlCatalog(await ctx.services.semantic());
  const request = Buffer.concat([wire.parseMessage(text, paramTypes), wire.describeMessage('S'), wire.syncMessage()]);
  for (const { type, message } of wire.splitMessages(await ctx.services.mirror.exchange(ddl, request))) {
    if (type === 't' || type === 'T' || type === 'n') ctx.connection.send(message);
    else if (type === 'E') {
      const fields = wire.readErrorFields(message);
      throw new SqlInterfaceError(fields.get('C') ?? 'XX000', fields.get('M') ?? 'error', fields.get('H'));
    }
  }
}
