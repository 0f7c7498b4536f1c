import { createRandom, STREAM, type Random } from './random.ts';
import { DEMO_DAYS, cumulative, dateDay, dayDate, searchCumulative } from './calendar.ts';

export const PRODUCT_TYPES = ['money_market', 'bond_fund', 'equity_fund', 'mixed_fund', 'wealth_management', 'deposit'] as const;
export type ProductType = (typeof PRODUCT_TYPES)[number];

interface ProductTypeShape {
  readonly count: number;
  readonly risk: readonly [rating: number, weight: number][];
  readonly drift: number;
  readonly volatility: number;
  /** Share of the type's products launched inside the window. */
  readonly newShare: number;
  /** Share of the type's products paying a quarterly dividend, and its rate. */
  readonly dividend: readonly [share: number, rate: number];
  /** Relative share of purchases and of product views. */
  readonly purchaseWeight: number;
  readonly browseWeight: number;
  readonly themes: readonly string[];
}

const SHAPES: Record<ProductType, ProductTypeShape> = {
  money_market: {
    count: 25,
    risk: [[1, 1]],
    drift: 0.018,
    volatility: 0.0004,
    newShare: 0.04,
    dividend: [0, 0],
    purchaseWeight: 38,
    browseWeight: 22,
    themes: ['Cash Plus', 'Daily Yield', 'Treasure', 'Liquidity'],
  },
  bond_fund: {
    count: 50,
    risk: [
      [2, 3],
      [3, 1],
    ],
    drift: 0.03,
    volatility: 0.025,
    newShare: 0.1,
    dividend: [0.4, 0.004],
    purchaseWeight: 24,
    browseWeight: 20,
    themes: ['Pure Bond', 'Short Duration', 'Credit Select', 'Treasury Index', 'Enhanced Bond'],
  },
  equity_fund: {
    count: 45,
    risk: [
      [4, 55],
      [5, 45],
    ],
    drift: 0.06,
    volatility: 0.22,
    newShare: 0.1,
    dividend: [0.2, 0.01],
    purchaseWeight: 10,
    browseWeight: 22,
    themes: ['Growth', 'Consumer Leaders', 'New Energy', 'Healthcare', 'CSI 300 Index', 'Tech Innovation', 'Dividend Value'],
  },
  mixed_fund: {
    count: 40,
    risk: [
      [3, 1],
      [4, 1],
    ],
    drift: 0.05,
    volatility: 0.14,
    newShare: 0.1,
    dividend: [0.3, 0.006],
    purchaseWeight: 10,
    browseWeight: 16,
    themes: ['Balanced', 'Flexible Allocation', 'Value Select', 'Stable Return'],
  },
  wealth_management: {
    count: 25,
    risk: [
      [2, 3],
      [3, 2],
    ],
    drift: 0.035,
    volatility: 0.012,
    newShare: 0.15,
    dividend: [0, 0],
    purchaseWeight: 12,
    browseWeight: 12,
    themes: ['90-Day WMP', '180-Day WMP', '1-Year WMP', 'Steady Income WMP'],
  },
  deposit: {
    count: 15,
    risk: [[1, 1]],
    drift: 0.022,
    volatility: 0,
    newShare: 0.05,
    dividend: [0, 0],
    purchaseWeight: 6,
    browseWeight: 8,
    themes: ['3-Month Time Deposit', '1-Year Large CD', '3-Year Large CD', 'Smart Deposit'],
  },
};
const HOUSES = [
  'Jade River',
  'Golden Bridge',
  'East Harbor',
  'Pearl Delta',
  'Silk Road',
  'Bamboo Grove',
  'Lotus Peak',
  'Blue Sky',
  'Morning Star',
  'North Star',
  'West Lake',
  'Red Cliff',
];

/** Days (from the window start) on which dividend-paying funds distribute. */
export const DIVIDEND_DAYS: readonly number[] = ['2025-12-15', '2026-03-16', '2026-06-15', '2026-09-15'].map(dateDay);

export interface Product {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly type: ProductType;
  readonly riskRating: number;
  /** Day index of the launch (negative: before the window). */
  readonly launchDay: number;
  /** NAV per day of the window in ten-thousandths (1.0234 is 10234); 0 before the launch. */
  readonly navE4: Int32Array;
  /** Dividend per quarter as a share of NAV; 0 for products that pay none. */
  readonly dividendRate: number;
  readonly popularity: number;
}

export interface Catalog {
  readonly products: readonly Product[];
  /** A product a customer with risk level `riskLevel` would buy on `day` (suitable, launched). */
  pickPurchase(random: Random, riskLevel: number, day: number): Product;
  /** A product a customer browses on `day`: any risk, launched. */
  pickBrowse(random: Random, day: number): Product;
}

/** The ~200-product shelf and its daily NAV, a pure function of the seed. */
export function createCatalog(seed: number): Catalog {
  const products = buildProducts(seed);
  const browse = weightTable(products, (p) => SHAPES[p.type].browseWeight * p.popularity);
  const purchase = [1, 2, 3, 4, 5].map((level) => weightTable(products, (p) => (p.riskRating <= level ? SHAPES[p.type].purchaseWeight * p.popularity : 0)));
  const fallback = products.find((p) => p.type === 'money_market' && p.launchDay <= 0)!;
  const draw = (random: Random, table: Float64Array, day: number): Product => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const product = products[searchCumulative(table, random.next())]!;
      if (product.launchDay <= day) return product;
    }
    return fallback;
  };
  return {
    products,
    pickPurchase: (random, riskLevel, day) => draw(random, purchase[riskLevel - 1]!, day),
    pickBrowse: (random, day) => draw(random, browse, day),
  };
}

function weightTable(products: readonly Product[], weight: (p: Product) => number): Float64Array {
  return cumulative(products.map(weight));
}

function buildProducts(seed: number): Product[] {
  const random = createRandom(seed, STREAM.catalog, 0);
  const names = new Set<string>();
  const products: Product[] = [];
  for (const type of PRODUCT_TYPES) {
    const shape = SHAPES[type];
    for (let rank = 0; rank < shape.count; rank++) {
      const index = products.length;
      const isNew = random.chance(shape.newShare);
      const launchDay = isNew ? 20 + random.int(310) : -30 - random.int(3600);
      const riskRating = shape.risk[random.weighted(shape.risk.map(([, w]) => w))]![0];
      products.push({
        index,
        id: `p${String(index + 1).padStart(4, '0')}`,
        name: uniqueName(names, `${random.pick(HOUSES)} ${random.pick(shape.themes)} ${random.pick(['A', 'C'])}`),
        type,
        riskRating,
        launchDay,
        navE4: navSeries(createRandom(seed, STREAM.nav, index), shape, launchDay),
        dividendRate: random.chance(shape.dividend[0]) ? shape.dividend[1] : 0,
        popularity: (isNew ? 3 : 1) / Math.pow(rank + 1, 0.9),
      });
    }
  }
  return products;
}

function uniqueName(names: Set<string>, name: string): string {
  let candidate = name;
  for (let n = 2; names.has(candidate); n++) candidate = `${name} ${n}`;
  names.add(candidate);
  return candidate;
}

/** A daily NAV random walk in whole ten-thousandths; money-market and deposit products only accrue. */
function navSeries(random: Random, shape: ProductTypeShape, launchDay: number): Int32Array {
  const series = new Int32Array(DEMO_DAYS);
  const yearsLive = Math.max(0, -launchDay) / 365;
  let nav = 1 + shape.drift * yearsLive;
  if (shape.volatility > 0.01) nav *= Math.exp(shape.volatility * Math.sqrt(yearsLive) * random.normal());
  const dailyVolatility = shape.volatility / Math.sqrt(365);
  for (let day = Math.max(0, launchDay); day < DEMO_DAYS; day++) {
    if (day > launchDay) nav *= 1 + shape.drift / 365 + dailyVolatility * random.normal();
    nav = Math.max(0.3, nav);
    series[day] = Math.round(nav * 10_000);
  }
  return series;
}

export function formatNav(navE4: number): string {
  return `${Math.floor(navE4 / 10_000)}.${String(navE4 % 10_000).padStart(4, '0')}`;
}

export const PRODUCT_COLUMNS = ['product_id', 'name', 'product_type', 'risk_rating', 'launched_at'] as const;
export const PRODUCT_NAV_COLUMNS = ['product_id', 'as_of', 'nav'] as const;

export function productsCsv(products: readonly Product[]): string {
  return products.map((p) => `${p.id},${p.name},${p.type},R${p.riskRating},${dayDate(p.launchDay)}\n`).join('');
}

export function productNavCsv(products: readonly Product[]): string {
  const lines: string[] = [];
  for (const product of products) {
    product.navE4.forEach((nav, day) => {
      if (nav > 0) lines.push(`${product.id},${dayDate(day)},${formatNav(nav)}\n`);
    });
  }
  return lines.join('');
}
