import { DEMO_DAYS, SECONDS_PER_DAY, WINDOW_SECONDS, secondOfDay } from './calendar.ts';
import { CHANNELS, type CustomerProfile } from './customers.ts';
import type { CsvWriter } from './csv-writer.ts';
import { createEventLog } from './event-log.ts';
import { createPortfolio, type LedgerOutput } from './portfolio.ts';
import type { Catalog } from './products.ts';
import { createRandom, STREAM, type Random } from './random.ts';
import { browse, continueCustomerSession, runCustomerSession, advance, type SessionContext } from './sessions.ts';

/** CSV produced by a batch of customers, one writer per target table. */
export interface ActivityOutput extends LedgerOutput {
  readonly events: CsvWriter;
}

const MAX_SESSIONS = 600;
const VISITOR_SHARE = 0.25;

/**
 * One customer's year: registration (with the anonymous browsing before it), app sessions
 * while they stay active, purchases, redemptions and dividends, and the position intervals
 * that become `holdings_daily`. Also an anonymous visitor who never registers, now and then.
 */
export function simulateCustomer(seed: number, customer: CustomerProfile, catalog: Catalog, out: ActivityOutput): void {
  const random = createRandom(seed, STREAM.activity, customer.index);
  const digits = customer.id.slice(1);
  const log = createEventLog(out.events, `e${digits}-`, { customerId: customer.id }, customer.channel);
  const portfolio = createPortfolio(customer.index, customer.id, out);
  const ctx: SessionContext = { random, catalog, log, customer, portfolio, now: 0, lastViewed: null };

  if (customer.registeredAt >= 0) register(ctx, customer);
  for (const start of scheduleSessions(random, customer)) {
    portfolio.payDividendsBefore(start, customer.channel);
    log.channel = sessionChannel(random, customer);
    runCustomerSession(ctx, start);
  }
  portfolio.payDividendsBefore(WINDOW_SECONDS, customer.channel);
  portfolio.finish();
  simulateVisitor(seed, customer.index, digits, catalog, out.events);
}

/** The device opens the app anonymously, sometimes browses, then registers and carries on. */
function register(ctx: SessionContext, customer: CustomerProfile): void {
  const { random, log } = ctx;
  const anonymousId = `anon-${random.hex(12)}`;
  const opened = customer.registeredAt - 900 - random.int(900);
  const browses = random.chance(0.45);
  ctx.lastViewed = null;
  if (opened >= 0) {
    log.identify('', anonymousId);
    ctx.now = opened;
    log.emit('app_open', opened);
    if (browses) browse(ctx);
  }
  log.identify(customer.id, anonymousId);
  ctx.now = customer.registeredAt;
  log.emit('register', ctx.now, 'register');
  log.identify(customer.id);
  advance(ctx);
  continueCustomerSession(ctx);
}

/** Session starts: a Poisson process at the customer's rate while active, at hours people use apps. */
function scheduleSessions(random: Random, customer: CustomerProfile): number[] {
  const from = Math.max(0, customer.registeredAt + 3600);
  const until = customer.activeUntil;
  const sessions: number[] = [];
  if (until <= from) return sessions;
  const meanGapDays = 30 / customer.sessionsPerMonth;
  let t = from / SECONDS_PER_DAY;
  for (;;) {
    t += random.exponential(meanGapDays);
    const day = Math.floor(t);
    if (day * SECONDS_PER_DAY > until || sessions.length >= MAX_SESSIONS) break;
    const moment = day * SECONDS_PER_DAY + secondOfDay(random.next(), random.next());
    if (moment > from && moment <= until) sessions.push(moment);
  }
  return sessions.sort((a, b) => a - b);
}

/** Mostly the registration channel; branch customers use the app and web, sometimes assisted in a branch. */
function sessionChannel(random: Random, customer: CustomerProfile): string {
  if (customer.channel === 'branch') return random.pick(['app', 'web', 'branch'], [60, 25, 15]);
  return random.chance(0.88) ? customer.channel : 'app';
}

/** An anonymous visitor who browses once or a few times and never registers. */
function simulateVisitor(seed: number, index: number, digits: string, catalog: Catalog, events: CsvWriter): void {
  const random = createRandom(seed, STREAM.visitor, index);
  if (!random.chance(VISITOR_SHARE)) return;
  const channel = random.pick(
    CHANNELS.filter((c) => c !== 'branch'),
    [45, 25, 20, 10],
  );
  const log = createEventLog(events, `a${digits}-`, { anonymousId: `anon-${random.hex(12)}` }, channel);
  const ctx: SessionContext = { random, catalog, log, now: 0, lastViewed: null };
  let day = random.int(DEMO_DAYS - 10);
  const sessions = 1 + random.weighted([60, 25, 15]);
  for (let i = 0; i < sessions && day < DEMO_DAYS - 1; i++) {
    ctx.now = day * SECONDS_PER_DAY + secondOfDay(random.next(), random.next());
    ctx.lastViewed = null;
    log.emit('app_open', ctx.now);
    browse(ctx);
    day += 1 + random.int(10);
  }
}
