import { SECONDS_PER_DAY, WINDOW_SECONDS, dayOf } from './calendar.ts';
import type { CustomerProfile } from './customers.ts';
import { PLACEMENTS, type EventLog, type PlacementId } from './event-log.ts';
import type { Portfolio } from './portfolio.ts';
import type { Catalog, Product } from './products.ts';
import type { Random } from './random.ts';
import { incidentSubmitFactor } from './incident.ts';

/** Share of sessions that end in a purchase_submit, by channel and by risk level C1..C5. */
const SUBMIT_RATE: Record<string, number> = { app: 0.16, alipay_miniprogram: 0.135, wechat_miniprogram: 0.095, branch: 0.14, web: 0.08 };
const SUBMIT_BY_RISK = [0.6, 0.85, 1, 1.15, 1.25];
/** Share of submits that succeed, by channel (before the suitability check). */
const SUCCESS_RATE: Record<string, number> = { app: 0.91, alipay_miniprogram: 0.87, wechat_miniprogram: 0.8, branch: 0.95, web: 0.82 };
const CTR_BY_CHANNEL: Record<string, number> = { app: 1.1, alipay_miniprogram: 0.8, wechat_miniprogram: 0.8, branch: 1, web: 0.7 };
const PENDING_FROM = WINDOW_SECONDS - 3 * SECONDS_PER_DAY;

/** What a session needs: the actor's draws, catalog, event log and (for customers) portfolio. */
export interface SessionContext {
  readonly random: Random;
  readonly catalog: Catalog;
  readonly log: EventLog;
  readonly customer?: CustomerProfile;
  readonly portfolio?: Portfolio;
  /** Moment of the latest event. */
  now: number;
  lastViewed: Product | null;
}

/** Opens the app (and sometimes logs in), then browses, perhaps redeems, perhaps buys. */
export function runCustomerSession(ctx: SessionContext, start: number): void {
  ctx.now = start;
  ctx.lastViewed = null;
  ctx.log.emit('app_open', start);
  if (ctx.random.chance(0.3)) ctx.log.emit('login', advance(ctx), 'login');
  continueCustomerSession(ctx);
}

/** The part of a session after the app is open (also right after registration). */
export function continueCustomerSession(ctx: SessionContext): void {
  browse(ctx);
  const { random, portfolio } = ctx;
  if (portfolio?.holdsAnything && random.chance(0.07)) redeem(ctx, portfolio);
  maybePurchase(ctx);
}

/** Home page, banners, the wealth mall and a few product pages. */
export function browse(ctx: SessionContext): void {
  const { random, log, catalog } = ctx;
  const day = dayOf(ctx.now);
  log.emit('page_view', advance(ctx), 'home');
  if (random.chance(0.85)) showPlacement(ctx, 'home_banner');
  if (random.chance(0.2)) showPlacement(ctx, 'home_popup');
  if (random.chance(0.35)) {
    log.emit('page_view', advance(ctx), 'wealth_mall');
    showPlacement(ctx, 'wealth_mall_top');
  }
  const views = random.weighted([40, 40, 15, 5]);
  for (let i = 0; i < views; i++) {
    const product = catalog.pickBrowse(random, day);
    viewProduct(ctx, product);
    if (random.chance(0.3)) showPlacement(ctx, 'fund_detail_bottom');
  }
  if (ctx.portfolio && random.chance(ctx.portfolio.holdsAnything ? 0.5 : 0.1)) {
    log.emit('page_view', advance(ctx), 'my_assets');
    showPlacement(ctx, 'my_assets_banner');
  }
}

function showPlacement(ctx: SessionContext, placementId: PlacementId): void {
  const { random, log } = ctx;
  const { page, ctr } = PLACEMENTS[placementId];
  const product = ctx.catalog.pickBrowse(random, dayOf(ctx.now));
  log.emit('placement_impression', advance(ctx), page, placementId, product.id);
  if (!random.chance(ctr * (CTR_BY_CHANNEL[log.channel] ?? 1))) return;
  log.emit('placement_click', advance(ctx), page, placementId, product.id);
  viewProduct(ctx, product);
}

function viewProduct(ctx: SessionContext, product: Product): void {
  ctx.log.emit('product_view', advance(ctx), 'product_detail', '', product.id);
  ctx.lastViewed = product;
}

function redeem(ctx: SessionContext, portfolio: Portfolio): void {
  const { random } = ctx;
  ctx.log.emit('page_view', advance(ctx), 'my_assets');
  const share = random.chance(0.35) ? 1 : random.between(0.1, 0.6);
  const status = random.chance(0.985) ? 'succeeded' : 'failed';
  portfolio.redeem(random.next(), share, advance(ctx), ctx.log.channel, status);
}

function maybePurchase(ctx: SessionContext): void {
  const { random, customer, portfolio, catalog } = ctx;
  if (!customer || !portfolio || customer.kycAt === null || customer.kycAt > ctx.now) return;
  const wealthFactor = Math.min(3, Math.max(0.6, 1 + 0.35 * Math.log10(customer.wealth / 10_000)));
  const incident = incidentSubmitFactor(dayOf(ctx.now), ctx.log.channel, customer.riskLevel);
  const rate = SUBMIT_RATE[ctx.log.channel]! * SUBMIT_BY_RISK[customer.riskLevel - 1]! * wealthFactor * incident;
  if (!random.chance(ctx.lastViewed ? rate : rate / 2)) return;
  const cents = chooseAmountCents(random, customer, portfolio, dayOf(ctx.now));
  if (cents === null) return;
  const day = dayOf(ctx.now);
  const product = random.chance(0.88) ? catalog.pickPurchase(random, customer.riskLevel, day) : (ctx.lastViewed ?? catalog.pickBrowse(random, day));
  submitPurchase(ctx, customer, portfolio, product, cents, true);
}

/** purchase_submit, then purchase_success and a succeeded transaction, or a failed (or late: pending) one. */
function submitPurchase(ctx: SessionContext, customer: CustomerProfile, portfolio: Portfolio, product: Product, cents: number, mayRetry: boolean): void {
  const { random, log } = ctx;
  if (ctx.lastViewed !== product) viewProduct(ctx, product);
  log.emit('purchase_submit', advance(ctx), 'purchase_confirm', '', product.id, cents);
  const unsuitable = product.riskRating > customer.riskLevel;
  const success = SUCCESS_RATE[log.channel]! * (unsuitable ? 0.12 : 1) * (customer.riskLevel === 1 ? 0.93 : 1);
  if (random.chance(success)) {
    ctx.now += 3 + random.int(27);
    log.emit('purchase_success', ctx.now, 'purchase_result', '', product.id, cents);
    portfolio.purchase(product, cents, ++ctx.now, log.channel, 'succeeded');
    if (random.chance(0.6)) showPlacement(ctx, 'purchase_result_recommend');
    return;
  }
  const at = ctx.now + 2 + random.int(8);
  portfolio.purchase(product, cents, at, log.channel, at >= PENDING_FROM ? 'pending' : 'failed');
  if (!mayRetry || !random.chance(0.35)) return;
  ctx.now = at + 30 + random.int(270);
  const retry = unsuitable ? ctx.catalog.pickPurchase(random, customer.riskLevel, dayOf(ctx.now)) : product;
  submitPurchase(ctx, customer, portfolio, retry, cents, false);
}

/** A share of the customer's wealth not yet invested, rounded like people type amounts; null below 10 CNY. */
function chooseAmountCents(random: Random, customer: CustomerProfile, portfolio: Portfolio, day: number): number | null {
  const budget = customer.wealth * 1.05 - portfolio.valueOn(day);
  const share = portfolio.purchases === 0 ? random.between(0.15, 0.6) : random.between(0.05, 0.35);
  const amount = Math.min(budget, customer.wealth * share, 10_000_000);
  const step = amount < 1_000 ? 10 : amount < 100_000 ? 100 : 1_000;
  const rounded = Math.floor(amount / step) * step;
  return rounded >= 10 ? rounded * 100 : null;
}

/** Moves the session clock a few seconds on and returns it. */
export function advance(ctx: SessionContext): number {
  ctx.now += 2 + ctx.random.int(25);
  return ctx.now;
}
