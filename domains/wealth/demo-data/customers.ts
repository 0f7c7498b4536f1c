import { createRandom, STREAM, type Random } from './random.ts';
import { DEMO_DAYS, DEMO_HISTORY_DAYS, SECONDS_PER_DAY, WINDOW_SECONDS, cumulative, dateDay, formatMoment, searchCumulative, secondOfDay } from './calendar.ts';

export const CHANNELS = ['app', 'alipay_miniprogram', 'wechat_miniprogram', 'branch', 'web'] as const;
export type Channel = (typeof CHANNELS)[number];
const CHANNEL_WEIGHTS = [38, 22, 20, 8, 12];
const AGE_BANDS = ['18-24', '25-34', '35-44', '45-54', '55+'] as const;
const RISK_BY_AGE = [
  [6, 20, 36, 25, 13],
  [8, 25, 36, 21, 10],
  [10, 28, 35, 19, 8],
  [14, 33, 33, 15, 5],
  [22, 38, 28, 9, 3],
];
const TYPE2_SHARE: Record<Channel, number> = { app: 0.78, alipay_miniprogram: 0.9, wechat_miniprogram: 0.9, branch: 0.1, web: 0.6 };
const SESSIONS_PER_MONTH: Record<Channel, number> = { app: 0.8, alipay_miniprogram: 0.6, wechat_miniprogram: 0.5, branch: 0.35, web: 0.4 };
const WEALTH_BY_AGE = [2_500, 8_000, 15_000, 22_000, 30_000];
const WEALTH_BY_CITY_TIER = [1.8, 1.2, 0.9, 0.7];
/** Share of customers registered before the window (the older base). */
const EXISTING_SHARE = 0.38;

/** One customer: the row for `wealth.customers` plus the hidden traits that drive their activity. */
export interface CustomerProfile {
  readonly index: number;
  readonly id: string;
  /** Moment (seconds since the window opened; negative for the older base). */
  readonly registeredAt: number;
  readonly channel: Channel;
  readonly cityTier: number;
  readonly ageBand: (typeof AGE_BANDS)[number];
  readonly gender: 'female' | 'male';
  /** Risk tolerance 1..5 (C1..C5): the highest product risk rating the customer may buy. */
  readonly riskLevel: number;
  readonly accountClass: 'type1' | 'type2';
  readonly kycAt: number | null;
  /** Average app sessions per month while the customer is active. */
  readonly sessionsPerMonth: number;
  /** The customer is active until this moment; below the window start they are dormant all year. */
  readonly activeUntil: number;
  /** Investable wealth in CNY: bounds what the customer will hold. */
  readonly wealth: number;
}

/** Customer ids sort as text: `c` plus the 1-based index padded to max(6, digits of N). */
export function customerIdWidth(customers: number): number {
  return Math.max(6, String(customers).length);
}

export function customerId(index: number, width: number): string {
  return `c${String(index + 1).padStart(width, '0')}`;
}

const REGISTRATION_CUMULATIVE = cumulative(Array.from({ length: DEMO_DAYS }, (_, day) => registrationWeight(day)));
const HISTORY_CUMULATIVE = cumulative(Array.from({ length: DEMO_HISTORY_DAYS }, (_, i) => 0.6 + (0.4 * i) / DEMO_HISTORY_DAYS));

/** New registrations per day: growing over the year, peaks on shopping festivals, a dip at Spring Festival. */
function registrationWeight(day: number): number {
  const weekday = (day + 6) % 7; // day 0 (2025-11-01) is a Saturday; 0 = Monday
  let weight = (1 + (0.8 * day) / DEMO_DAYS) * (weekday >= 5 ? 1.15 : 1);
  const near = (date: string, width: number) => Math.abs(day - dateDay(date)) <= width;
  if (near('2025-11-11', 1)) weight *= 2.5;
  if (near('2025-12-12', 0)) weight *= 1.4;
  if (near('2026-02-17', 5)) weight *= 0.55;
  if (near('2026-06-18', 1)) weight *= 2;
  return weight;
}

export function generateCustomer(seed: number, index: number, idWidth: number): CustomerProfile {
  const random = createRandom(seed, STREAM.profile, index);
  const existing = random.chance(EXISTING_SHARE);
  const day = existing ? searchCumulative(HISTORY_CUMULATIVE, random.next()) - DEMO_HISTORY_DAYS : searchCumulative(REGISTRATION_CUMULATIVE, random.next());
  // New customers register early enough for their first session to end inside the window.
  const registeredAt = Math.min(day * SECONDS_PER_DAY + secondOfDay(random.next(), random.next()), WINDOW_SECONDS - 7200);
  const channel = random.pick(CHANNELS, CHANNEL_WEIGHTS);
  const age = random.weighted(channel === 'branch' ? [3, 15, 27, 30, 25] : [12, 33, 27, 17, 11]);
  const cityTier = 1 + random.weighted([22, 33, 27, 18]);
  const accountClass = random.chance(TYPE2_SHARE[channel]) ? 'type2' : 'type1';
  const wealthMedian = WEALTH_BY_AGE[age]! * WEALTH_BY_CITY_TIER[cityTier - 1]! * (accountClass === 'type1' ? 1.6 : 1);
  return {
    index,
    id: customerId(index, idWidth),
    registeredAt,
    channel,
    cityTier,
    ageBand: AGE_BANDS[age]!,
    gender: random.chance(0.48) ? 'female' : 'male',
    riskLevel: 1 + random.weighted(RISK_BY_AGE[age]!),
    accountClass,
    kycAt: kycMoment(random, registeredAt, accountClass),
    sessionsPerMonth: Math.min(40, Math.max(0.05, random.logNormal(SESSIONS_PER_MONTH[channel], 0.9))),
    activeUntil: activeUntil(random, existing, registeredAt),
    wealth: Math.min(60_000_000, random.logNormal(wealthMedian, 1.9)),
  };
}

function kycMoment(random: Random, registeredAt: number, accountClass: string): number | null {
  if (accountClass === 'type1') return registeredAt + 60 + random.int(1800);
  if (!random.chance(0.83)) return null;
  const kind = random.weighted([65, 25, 10]);
  const delay = kind === 0 ? 30 + random.int(900) : kind === 1 ? random.between(1, 20) * SECONDS_PER_DAY : random.between(20, 120) * SECONDS_PER_DAY;
  const at = registeredAt + Math.floor(delay);
  return at < WINDOW_SECONDS ? at : null;
}

function activeUntil(random: Random, existing: boolean, registeredAt: number): number {
  const last = WINDOW_SECONDS - 3600;
  if (existing) {
    if (random.chance(0.3)) return -1;
    return Math.min(last, Math.floor(random.exponential(330) * SECONDS_PER_DAY));
  }
  const span = random.chance(0.28) ? random.between(0, 3) : random.exponential(240);
  return Math.min(last, registeredAt + Math.floor(span * SECONDS_PER_DAY));
}

/** The customer's `wealth.customers` CSV line. */
export function customerCsv(customer: CustomerProfile): string {
  const kyc = customer.kycAt === null ? '' : formatMoment(customer.kycAt);
  return (
    `${customer.id},${formatMoment(customer.registeredAt)},${customer.channel},${customer.cityTier},${customer.ageBand},` +
    `${customer.gender},C${customer.riskLevel},${customer.accountClass},${kyc}\n`
  );
}

export const CUSTOMER_COLUMNS = [
  'customer_id',
  'registered_at',
  'channel',
  'city_tier',
  'age_band',
  'gender',
  'risk_level',
  'account_class',
  'kyc_completed_at',
] as const;
