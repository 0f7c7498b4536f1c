export type Locale = 'zh-CN' | 'en';

/** How a metric's values read: its type and governed description decide (ratios as percentages, CNY amounts as money). */
export type ValueFormat = 'number' | 'money' | 'percent';

/**
 * Formatting per locale, in the reporting time zone of the warehouse (the models' `timeZone`):
 * numbers with the locale's grouping, money in CNY, calendar dates (`YYYY-MM-DD`) as dates
 * and instants (ISO 8601 with offset) as date-times of that zone.
 */
export interface Formats {
  readonly locale: Locale;
  readonly timeZone: string;
  /** The text in the current language: `tr('指标', 'Metrics')`. */
  tr(zh: string, en: string): string;
  number(value: number | null | undefined, digits?: number): string;
  money(value: number | null | undefined): string;
  percent(value: number | null | undefined, digits?: number): string;
  value(value: number | null | undefined, format: ValueFormat): string;
  /** Short, for chart axes: `¥1.2M`, `¥120万`, `12%`. */
  compact(value: number | null | undefined, format: ValueFormat): string;
  date(value: string | null | undefined): string;
  dateTime(value: string | null | undefined): string;
  pValue(value: number | null | undefined): string;
}

const DASH = '—';

export function formatsFor(locale: Locale, timeZone: string): Formats {
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const decimals = new Map<number, Intl.NumberFormat>();
  const numberWith = (digits: number) => {
    let format = decimals.get(digits);
    if (!format) decimals.set(digits, (format = new Intl.NumberFormat(locale, { maximumFractionDigits: digits })));
    return format;
  };
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: 'CNY', maximumFractionDigits: 2 });
  const percents = new Map<number, Intl.NumberFormat>();
  const percentWith = (digits: number) => {
    let format = percents.get(digits);
    if (!format)
      percents.set(digits, (format = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits })));
    return format;
  };
  // A calendar date names a day of the reporting zone: shown as that day, whatever the browser's zone.
  const calendarDate = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' });
  const instant = new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  const compactNumber = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });
  const compactMoney = new Intl.NumberFormat(locale, { notation: 'compact', style: 'currency', currency: 'CNY', maximumFractionDigits: 1 });
  const missing = (value: number | null | undefined): value is null | undefined => value === null || value === undefined || Number.isNaN(value);
  const formats: Formats = {
    locale,
    timeZone,
    tr: (zh, en) => (locale === 'zh-CN' ? zh : en),
    number: (value, digits) =>
      missing(value) ? DASH : digits === undefined && Number.isInteger(value) ? integer.format(value) : numberWith(digits ?? 2).format(value),
    money: (value) => (missing(value) ? DASH : money.format(value)),
    percent: (value, digits = 1) => (missing(value) ? DASH : percentWith(digits).format(value)),
    value: (value, format) => (format === 'money' ? formats.money(value) : format === 'percent' ? formats.percent(value, 2) : formats.number(value)),
    compact: (value, format) =>
      missing(value)
        ? DASH
        : format === 'money'
          ? compactMoney.format(value)
          : format === 'percent'
            ? percentWith(0).format(value)
            : compactNumber.format(value),
    date: (value) => {
      if (!value) return DASH;
      const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00Z`) : null;
      if (day) return calendarDate.format(day);
      const at = new Date(value);
      return Number.isNaN(at.getTime()) ? value : instant.format(at);
    },
    dateTime: (value) => {
      if (!value) return DASH;
      const at = new Date(value);
      return Number.isNaN(at.getTime()) ? value : instant.format(at);
    },
    pValue: (value) => (missing(value) ? DASH : value < 0.0001 ? '< 0.0001' : numberWith(4).format(value)),
  };
  return formats;
}
