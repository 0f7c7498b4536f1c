import { SECONDS_PER_DAY, dayDate } from './calendar.ts';

/**
 * Builds CSV text byte by byte in a reusable buffer: the generator writes millions of short
 * fields, and assembling them as JavaScript strings spends most of its time collecting garbage.
 * ASCII only (every generated value is).
 */
export interface CsvWriter {
  /** Rows written since the last `take()`. */
  readonly rows: number;
  /** A field of plain text (no comma, quote or newline). */
  text(value: string): CsvWriter;
  /** A non-negative integer. */
  int(value: number): CsvWriter;
  /** A non-negative amount in fen as `123.45`. */
  cents(value: number): CsvWriter;
  /** A moment (seconds since the window opened, Shanghai) as timestamptz text in UTC. */
  moment(moment: number): CsvWriter;
  comma(): CsvWriter;
  /** Ends the row. */
  end(): void;
  /** The CSV written so far, emptying the writer. */
  take(): string;
}

export function createCsvWriter(): CsvWriter {
  return new ByteCsvWriter();
}

const COMMA = 44;
const NEWLINE = 10;
const SHANGHAI_OFFSET_SECONDS = 8 * 3600;

class ByteCsvWriter implements CsvWriter {
  #bytes = Buffer.allocUnsafe(1 << 20);
  #length = 0;
  #rows = 0;

  get rows(): number {
    return this.#rows;
  }

  text(value: string): CsvWriter {
    const n = value.length;
    this.#reserve(n);
    const bytes = this.#bytes;
    let at = this.#length;
    for (let i = 0; i < n; i++) bytes[at++] = value.charCodeAt(i);
    this.#length = at;
    return this;
  }

  int(value: number): CsvWriter {
    if (value < 10) {
      this.#reserve(1);
      this.#bytes[this.#length++] = 48 + value;
      return this;
    }
    return this.text(String(value));
  }

  cents(value: number): CsvWriter {
    const whole = Math.floor(value / 100);
    const fraction = value - whole * 100;
    this.int(whole);
    this.#reserve(3);
    const bytes = this.#bytes;
    bytes[this.#length++] = 46;
    bytes[this.#length++] = 48 + Math.floor(fraction / 10);
    bytes[this.#length++] = 48 + (fraction % 10);
    return this;
  }

  moment(moment: number): CsvWriter {
    const utc = moment - SHANGHAI_OFFSET_SECONDS;
    const day = Math.floor(utc / SECONDS_PER_DAY);
    let rest = utc - day * SECONDS_PER_DAY;
    const hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    const minutes = Math.floor(rest / 60);
    const seconds = rest - minutes * 60;
    this.text(dayDate(day));
    this.#reserve(12);
    const bytes = this.#bytes;
    let at = this.#length;
    bytes[at++] = 32;
    at = twoDigits(bytes, at, hours);
    bytes[at++] = 58;
    at = twoDigits(bytes, at, minutes);
    bytes[at++] = 58;
    at = twoDigits(bytes, at, seconds);
    bytes[at++] = 43; // +00
    bytes[at++] = 48;
    bytes[at++] = 48;
    this.#length = at;
    return this;
  }

  comma(): CsvWriter {
    this.#reserve(1);
    this.#bytes[this.#length++] = COMMA;
    return this;
  }

  end(): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = NEWLINE;
    this.#rows += 1;
  }

  take(): string {
    const text = this.#bytes.toString('latin1', 0, this.#length);
    this.#length = 0;
    this.#rows = 0;
    return text;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, this.#length + extra));
    this.#bytes.copy(grown, 0, 0, this.#length);
    this.#bytes = grown;
  }
}

function twoDigits(bytes: Buffer, at: number, value: number): number {
  bytes[at] = 48 + Math.floor(value / 10);
  bytes[at + 1] = 48 + (value % 10);
  return at + 2;
}
