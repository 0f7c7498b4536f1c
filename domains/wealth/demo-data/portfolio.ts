import { DEMO_DAYS, SECONDS_PER_DAY, dayDate, dayOf } from './calendar.ts';
import type { CsvWriter } from './csv-writer.ts';
import { DIVIDEND_DAYS, type Product } from './products.ts';

/** Units are tracked in whole ten-thousandths, money in whole fen (cents), so nothing rounds twice. */
const MIN_UNITS_E4 = 10_000;
const DIVIDEND_SECOND_OF_DAY = 9.5 * 3600;

/** Where a customer's ledger goes: `wealth.transactions` rows and position intervals. */
export interface LedgerOutput {
  readonly transactions: CsvWriter;
  readonly positions: CsvWriter;
}

export type TransactionStatus = 'succeeded' | 'failed' | 'pending';

/**
 * One customer's holdings: every purchase, redemption and dividend becomes a transaction row,
 * and every run of constant units becomes a `[valid_from, valid_to)` position interval, from
 * which the database derives `holdings_daily` as units times the day's NAV. Redemptions never
 * exceed the units held.
 */
export interface Portfolio {
  readonly holdsAnything: boolean;
  readonly purchases: number;
  /** Market value in CNY on `day` (NAV of that day). */
  valueOn(day: number): number;
  purchase(product: Product, cents: number, moment: number, channel: string, status: TransactionStatus): void;
  /** Redeems `share` (0..1] of one held position chosen with `draw` in [0, 1). */
  redeem(draw: number, share: number, moment: number, channel: string, status: TransactionStatus): void;
  /** Pays the dividends due before `moment`. */
  payDividendsBefore(moment: number, channel: string): void;
  /** Closes the open intervals at the end of the window. */
  finish(): void;
}

export function createPortfolio(customerIndex: number, customerId: string, out: LedgerOutput): Portfolio {
  return new LedgerPortfolio(customerIndex, customerId, out);
}

interface Position {
  readonly product: Product;
  unitsE4: number;
  /** First day of the current run of `unitsE4`. */
  since: number;
}

class LedgerPortfolio implements Portfolio {
  readonly #positions: Position[] = [];
  readonly #txnPrefix: string;
  #txnSeq = 0;
  #purchases = 0;
  #nextDividend = 0;

  constructor(
    private readonly customerIndex: number,
    private readonly customerId: string,
    private readonly out: LedgerOutput,
  ) {
    this.#txnPrefix = `t${customerId.slice(1)}-`;
  }

  get holdsAnything(): boolean {
    for (const p of this.#positions) if (p.unitsE4 > 0) return true;
    return false;
  }

  get purchases(): number {
    return this.#purchases;
  }

  valueOn(day: number): number {
    let value = 0;
    for (const p of this.#positions) value += (p.unitsE4 / 10_000) * (p.product.navE4[day]! / 10_000);
    return value;
  }

  purchase(product: Product, cents: number, moment: number, channel: string, status: TransactionStatus): void {
    this.#record(product, 'purchase', cents, status, channel, moment);
    if (status !== 'succeeded') return;
    this.#purchases += 1;
    const day = dayOf(moment);
    const units = Math.floor((cents * 1_000_000) / product.navE4[day]!);
    let position = this.#positions.find((p) => p.product === product);
    if (!position) this.#positions.push((position = { product, unitsE4: 0, since: day }));
    this.#change(position, position.unitsE4 + units, day);
  }

  redeem(draw: number, share: number, moment: number, channel: string, status: TransactionStatus): void {
    const held = this.#positions.filter((p) => p.unitsE4 > 0);
    const position = held[Math.floor(draw * held.length)];
    if (!position) return;
    const day = dayOf(moment);
    let units = Math.floor(position.unitsE4 * share);
    if (position.unitsE4 - units < MIN_UNITS_E4) units = position.unitsE4;
    const cents = Math.round(((units / 10_000) * position.product.navE4[day]!) / 100);
    if (cents < 1) return;
    this.#record(position.product, 'redemption', cents, status, channel, moment);
    if (status === 'succeeded') this.#change(position, position.unitsE4 - units, day);
  }

  payDividendsBefore(moment: number, channel: string): void {
    while (this.#nextDividend < DIVIDEND_DAYS.length) {
      const day = DIVIDEND_DAYS[this.#nextDividend]!;
      const at = day * SECONDS_PER_DAY + DIVIDEND_SECOND_OF_DAY;
      if (at >= moment) return;
      this.#nextDividend += 1;
      for (const p of this.#positions) {
        if (p.unitsE4 <= 0 || p.product.dividendRate === 0 || p.since >= day) continue;
        const cents = Math.round((p.unitsE4 / 10_000) * (p.product.navE4[day]! / 100) * p.product.dividendRate);
        if (cents >= 1) this.#record(p.product, 'dividend', cents, 'succeeded', channel, at);
      }
    }
  }

  finish(): void {
    for (const p of this.#positions) this.#change(p, 0, DEMO_DAYS);
  }

  #record(product: Product, type: string, cents: number, status: string, channel: string, moment: number): void {
    this.#txnSeq += 1;
    const row = this.out.transactions.text(this.#txnPrefix).int(this.#txnSeq).comma();
    row.text(this.customerId).comma().text(product.id).comma().text(type).comma().cents(cents).comma();
    row.text(status).comma().text(channel).comma().moment(moment).end();
  }

  /** Closes the current interval of `position` (if it holds anything) and starts a new one on `day`. */
  #change(position: Position, unitsE4: number, day: number): void {
    if (position.unitsE4 > 0 && position.since < day) {
      const units = position.unitsE4;
      const whole = Math.floor(units / 10_000);
      const row = this.out.positions.int(this.customerIndex).comma().text(this.customerId).comma();
      row.text(position.product.id).comma().text(dayDate(position.since)).comma().text(dayDate(day)).comma();
      row
        .int(whole)
        .text(`.${String(units - whole * 10_000).padStart(4, '0')}`)
        .end();
    }
    position.unitsE4 = unitsE4;
    position.since = day;
  }
}

export const TRANSACTION_COLUMNS = ['txn_id', 'customer_id', 'product_id', 'txn_type', 'amount', 'status', 'channel', 'occurred_at'] as const;
export const POSITION_COLUMNS = ['customer_index', 'customer_id', 'product_id', 'valid_from', 'valid_to', 'units'] as const;
