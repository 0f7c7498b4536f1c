/**
 * PostgreSQL protocol (v3) messages: encoding backend messages for clients, reading frontend
 * messages, and the few frontend messages the catalog mirror is sent. pg-gateway handles the
 * connection start (SSL negotiation, startup packet, password request) and message framing;
 * everything after authentication is read and written here.
 */

/** A message being built: a type byte, a length, then fields. */
export class MessageWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly type: string) {}

  int16(value: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    return this.push(b);
  }

  int32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    return this.push(b);
  }

  cstring(value: string): this {
    return this.push(Buffer.from(`${value}\0`, 'utf8'));
  }

  bytes(value: Uint8Array): this {
    return this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  private push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  finish(): Buffer {
    const header = Buffer.alloc(5);
    header.write(this.type, 0, 'latin1');
    header.writeInt32BE(this.size + 4, 1);
    return Buffer.concat([header, ...this.parts], this.size + 5);
  }
}

/** Reads the fields of one frontend message (after its type byte and length). */
export class MessageReader {
  private offset = 5;

  constructor(private readonly data: Buffer) {}

  get type(): string {
    return String.fromCharCode(this.data[0] as number);
  }

  int16(): number {
    const v = this.data.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    const v = this.data.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  cstring(): string {
    const end = this.data.indexOf(0, this.offset);
    const text = this.data.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return text;
  }

  bytes(length: number): Buffer {
    const b = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return b;
  }
}

/** One field of a RowDescription. */
export interface FieldDescription {
  readonly name: string;
  readonly typeOid: number;
  readonly typeSize: number;
  readonly format: 0 | 1;
}

export const rowDescription = (fields: readonly FieldDescription[]): Buffer => {
  const w = new MessageWriter('T').int16(fields.length);
  for (const f of fields) w.cstring(f.name).int32(0).int16(0).int32(f.typeOid).int16(f.typeSize).int32(-1).int16(f.format);
  return w.finish();
};

export const dataRow = (values: readonly (Buffer | null)[]): Buffer => {
  const w = new MessageWriter('D').int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else w.int32(v.length).bytes(v);
  }
  return w.finish();
};

export const commandComplete = (tag: string): Buffer => new MessageWriter('C').cstring(tag).finish();
export const readyForQuery = (status: 'I' | 'T' | 'E'): Buffer => new MessageWriter('Z').bytes(Buffer.from(status, 'latin1')).finish();
export const parseComplete = (): Buffer => new MessageWriter('1').finish();
export const bindComplete = (): Buffer => new MessageWriter('2').finish();
export const closeComplete = (): Buffer => new MessageWriter('3').finish();
export const noData = (): Buffer => new MessageWriter('n').finish();
export const emptyQueryResponse = (): Buffer => new MessageWriter('I').finish();
export const portalSuspended = (): Buffer => new MessageWriter('s').finish();
export const authenticationOk = (): Buffer => new MessageWriter('R').int32(0).finish();
export const parameterStatus = (name: string, value: string): Buffer => new MessageWriter('S').cstring(name).cstring(value).finish();
export const backendKeyData = (pid: number, secret: number): Buffer => new MessageWriter('K').int32(pid).int32(secret).finish();

export const parameterDescription = (oids: readonly number[]): Buffer => {
  const w = new MessageWriter('t').int16(oids.length);
  for (const oid of oids) w.int32(oid);
  return w.finish();
};

/** An ErrorResponse (or NoticeResponse with type 'N'). */
export function errorResponse(
  error: { severity: 'ERROR' | 'FATAL'; code: string; message: string; hint?: string | undefined; position?: number | undefined },
  type = 'E',
): Buffer {
  const w = new MessageWriter(type);
  const field = (code: string, value: string) => w.bytes(Buffer.from(code, 'latin1')).cstring(value);
  field('S', error.severity);
  field('V', error.severity);
  field('C', error.code);
  field('M', error.message);
  if (error.hint) field('H', error.hint);
  if (error.position !== undefined) field('P', String(error.position));
  w.bytes(Buffer.from([0]));
  return w.finish();
}

// ---- frontend messages sent to the catalog mirror ----

export const parseMessage = (text: string, paramTypes: readonly number[]): Buffer => {
  const w = new MessageWriter('P').cstring('').cstring(text).int16(paramTypes.length);
  for (const oid of paramTypes) w.int32(oid);
  return w.finish();
};

export const bindMessage = (paramFormats: readonly number[], values: readonly (Buffer | null)[], resultFormats: readonly number[]): Buffer => {
  const w = new MessageWriter('B').cstring('').cstring('').int16(paramFormats.length);
  for (const f of paramFormats) w.int16(f);
  w.int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else w.int32(v.length).bytes(v);
  }
  w.int16(resultFormats.length);
  for (const f of resultFormats) w.int16(f);
  return w.finish();
};

export const describeMessage = (what: 'S' | 'P'): Buffer => new MessageWriter('D').bytes(Buffer.from(what, 'latin1')).cstring('').finish();
export const executeMessage = (): Buffer => new MessageWriter('E').cstring('').int32(0).finish();
export const syncMessage = (): Buffer => new MessageWriter('S').finish();

/** Splits a stream of backend messages into `[type, whole message]` pairs. */
export function splitMessages(data: Uint8Array): { type: string; message: Buffer }[] {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const messages: { type: string; message: Buffer }[] = [];
  let offset = 0;
  while (offset + 5 <= buffer.length) {
    const length = buffer.readInt32BE(offset + 1);
    messages.push({ type: String.fromCharCode(buffer[offset] as number), message: buffer.subarray(offset, offset + 1 + length) });
    offset += 1 + length;
  }
  return messages;
}

/** The fields of an ErrorResponse from the catalog mirror (code, message, hint, position). */
export function readErrorFields(message: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let offset = 5;
  while (offset < message.length && message[offset] !== 0) {
    const code = String.fromCharCode(message[offset] as number);
    const end = message.indexOf(0, offset + 1);
    fields.set(code, message.toString('utf8', offset + 1, end));
    offset = end + 1;
  }
  return fields;
}
