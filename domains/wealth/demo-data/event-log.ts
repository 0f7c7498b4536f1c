import type { CsvWriter } from './csv-writer.ts';

export const PLACEMENTS = {
  home_banner: { page: 'home', ctr: 0.032 },
  home_popup: { page: 'home', ctr: 0.072 },
  wealth_mall_top: { page: 'wealth_mall', ctr: 0.045 },
  fund_detail_bottom: { page: 'product_detail', ctr: 0.018 },
  my_assets_banner: { page: 'my_assets', ctr: 0.022 },
  purchase_result_recommend: { page: 'purchase_result', ctr: 0.055 },
} as const;
export type PlacementId = keyof typeof PLACEMENTS;

export const APP_EVENT_COLUMNS = [
  'event_id',
  'customer_id',
  'anonymous_id',
  'event_name',
  'occurred_at',
  'channel',
  'page',
  'placement_id',
  'product_id',
  'properties',
] as const;

/**
 * Writes one actor's `wealth.app_events` rows: a customer (customer_id set) or an anonymous
 * visitor (anonymous_id set). Event ids are `<prefix><sequence>`, so they are unique and
 * independent of how the run is chunked.
 */
export interface EventLog {
  /** Which channel the following events come from. */
  channel: string;
  emit(name: string, moment: number, page?: string, placementId?: string, productId?: string, amountCents?: number): void;
  /** Switches the actor, e.g. to the customer (and the visitor's anonymous id on the register event). */
  identify(customerId: string, anonymousId?: string): void;
  readonly count: number;
}

export function createEventLog(out: CsvWriter, prefix: string, identity: { customerId?: string; anonymousId?: string }, channel: string): EventLog {
  return new CsvEventLog(out, prefix, identity.customerId ?? '', identity.anonymousId ?? '', channel);
}

class CsvEventLog implements EventLog {
  #seq = 0;

  constructor(
    private readonly out: CsvWriter,
    private readonly prefix: string,
    private customerId: string,
    private anonymousId: string,
    public channel: string,
  ) {}

  get count(): number {
    return this.#seq;
  }

  emit(name: string, moment: number, page = '', placementId = '', productId = '', amountCents = -1): void {
    this.#seq += 1;
    const out = this.out.text(this.prefix).int(this.#seq).comma();
    out.text(this.customerId).comma().text(this.anonymousId).comma().text(name).comma().moment(moment).comma();
    out.text(this.channel).comma().text(page).comma().text(placementId).comma().text(productId).comma();
    if (amountCents < 0) out.text('{}');
    else out.text('"{""amount"": ').cents(amountCents).text('}"');
    out.end();
  }

  identify(customerId: string, anonymousId = ''): void {
    this.customerId = customerId;
    this.anonymousId = anonymousId;
  }
}
