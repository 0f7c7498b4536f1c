import { describe, expect, it } from 'vitest';
import { dateProblem, timeProblem } from './calendar.ts';
import { castProblem } from './values.ts';

describe('calendar-checked dates and times', () => {
  it.each([
    '2026-02-28',
    '2024-02-29',
    '2000-02-29',
    '0001-01-01',
    '9999-12-31',
    '2026-04-30',
    '2026-01-01T00:00',
    '2026-01-01 23:59:59',
    '2026-01-01T23:59:59.999999',
    '2026-01-01T08:00:00Z',
    '2026-01-01T08:00:00+08:00',
    '2026-01-01T08:00:00-0530',
    '2026-01-01T08:00+08',
    '2026-01-01T08:00:00+15:59',
  ])('accepts %s', (text) => {
    expect(timeProblem(text)).toBeUndefined();
    expect(castProblem('time', text)).toBeUndefined();
  });

  it.each([
    ['2026-02-30', '2026-02 has 28 days'],
    ['2026-02-29', '2026-02 has 28 days'],
    ['2100-02-29', '2100-02 has 28 days'],
    ['2026-04-31', '2026-04 has 30 days'],
    ['2026-01-00', '2026-01 has 31 days'],
    ['2026-13-01', 'month 13 does not exist'],
    ['2026-00-10', 'month 00 does not exist'],
    ['0000-01-01', 'year 0000 does not exist'],
    ['2026-01-01T25:00:00Z', 'hour 25 is out of range'],
    ['2026-01-01T24:00:00Z', 'hour 24 is out of range'],
    ['2026-01-01T10:60', 'minute 60 is out of range'],
    ['2026-01-01 23:59:60', 'second 60 is out of range'],
    ['2026-01-01T08:00:00+16:00', 'the UTC offset is out of range'],
    ['2026-01-01T08:00:00+08:60', 'the UTC offset is out of range'],
    ['2026-1-1', 'expected YYYY-MM-DD'],
    ['2026-01-01T08:00:00.1234567', 'expected YYYY-MM-DD'],
    ['tomorrow', 'expected YYYY-MM-DD'],
  ])('refuses %s: %s', (text, problem) => {
    expect(timeProblem(text)).toContain(problem);
    expect(castProblem('time', text)).toContain(problem);
  });

  it('takes only plain dates where a date is asked for', () => {
    expect(dateProblem('2026-03-01')).toBeUndefined();
    expect(dateProblem('2026-03-01T00:00:00Z')).toBe('expected a date, YYYY-MM-DD');
    expect(dateProblem('2026-02-30')).toBe('2026-02 has 28 days');
  });

  it('refuses values PostgreSQL cannot store, whatever the type', () => {
    expect(castProblem('string', 'app\u0000')).toMatch(/NUL/);
    expect(castProblem('string', '\ud800')).toMatch(/unpaired surrogate/);
    expect(castProblem('string', 'app 😀')).toBeUndefined();
  });
});
