import type { OutputType } from '../../modeling/sql-interface/translate-select.ts';
import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';

/** PostgreSQL's type OID and size of each type the SQL interface answers with. */
export const TYPE_INFO: Readonly<Record<OutputType, { readonly oid: number; readonly size: number }>> = {
  text: { oid: 25, size: -1 },
  'character varying': { oid: 1043, size: -1 },
  numeric: { oid: 1700, size: -1 },
  'double precision': { oid: 701, size: 8 },
  integer: { oid: 23, size: 4 },
  bigint: { oid: 20, size: 8 },
  boolean: { oid: 16, size: 1 },
  date: { oid: 1082, size: 4 },
  timestamp: { oid: 1114, size: 8 },
};

const DAY_MS = 86_400_000;
const EPOCH_2000_MS = Date.UTC(2000, 0, 1);

/** A value of a metric result as PostgreSQL's text output of `type`. */
export function textValue(value: unknown, type: OutputType): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date)
    return textValue(
      value
        .toISOString()
        .slice(0, type === 'timestamp' ? 19 : 10)
        .replace('T', ' '),
      type,
    );
  switch (type) {
    case 'boolean':
      return value === true || value === 't' || value === 'true' ? 't' : 'f';
    case 'integer':
    case 'bigint':
      return String(Math.round(Number(value)));
    case 'double precision':
    case 'numeric': {
      const n = typeof value === 'number' ? value : Number(value);
      if (Number.isNaN(n)) return 'NaN';
      if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
      return typeof value === 'string' && type === 'numeric' ? value : String(n);
    }
    case 'timestamp': {
      const text = String(value).replace('T', ' ');
      return /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text} 00:00:00` : text;
    }
    case 'date':
      return String(value).slice(0, 10);
    default:
      return String(value);
  }
}

/** The value in the requested format: text (0) or PostgreSQL's binary form (1). */
export function encodeValue(value: unknown, type: OutputType, format: number): Buffer | null {
  const text = textValue(value, type);
  if (text === null) return null;
  if (format !== 1) return Buffer.from(text, 'utf8');
  switch (type) {
    case 'boolean':
      return Buffer.from([text === 't' ? 1 : 0]);
    case 'integer': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Number(text));
      return b;
    }
    case 'bigint': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(text));
      return b;
    }
    case 'double precision': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(text));
      return b;
    }
    case 'date': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Math.round((Date.parse(`${text}T00:00:00Z`) - EPOCH_2000_MS) / DAY_MS));
      return b;
    }
    case 'timestamp': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(Date.parse(`${text.replace(' ', 'T')}Z`) - EPOCH_2000_MS) * 1000n);
      return b;
    }
    case 'numeric':
      throw new SqlInterfaceError('0A000', 'binary format is not supported for numeric columns; request text format');
    default:
      return Buffer.from(text, 'utf8');
  }
}

/** A parameter of the extended protocol as text: text format as sent, binary decoded by its declared type. */
export function parameterText(value: Buffer | null, format: number, typeOid: number): string | null {
  if (value === null) return null;
  if (format !== 1) return value.toString('utf8');
  switch (typeOid) {
    case 16:
      return value[0] ? 'true' : 'false';
    case 21:
      return String(value.readInt16BE(0));
    case 23:
      return String(value.readInt32BE(0));
    case 20:
      return String(value.readBigInt64BE(0));
    case 700:
      return String(value.readFloatBE(0));
    case 701:
      return String(value.readDoubleBE(0));
    case 1082:
      return new Date(EPOCH_2000_MS + value.readInt32BE(0) * DAY_MS).toISOString().slice(0, 10);
    case 0:
    case 19:
    case 25:
    case 1043:
      return value.toString('utf8');
    default:
      throw new SqlInterfaceError('0A000', `binary parameters of type ${typeOid} are not supported; send parameters as text`);
  }
}
