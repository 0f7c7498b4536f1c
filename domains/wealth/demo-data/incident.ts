import { dateDay } from './calendar.ts';

/**
 * The incident the demo data tells (docs/domain.md, "The planted incident"): on 2026-10-01,
 * the first day of the last complete month, the mini-programs' home banner (Alipay and
 * WeChat) switched to an equity-fund campaign. Conservative customers (risk level C2) mostly
 * cannot buy what it promotes, and in mini-program sessions from that day they submit
 * purchases at `INCIDENT_SUBMIT_FACTOR` of their usual rate. Everything else is unchanged,
 * so the month's mini-program purchase conversion drops, and the drop is C2's.
 */
export const INCIDENT = {
  from: '2026-10-01',
  channels: ['alipay_miniprogram', 'wechat_miniprogram'] as readonly string[],
  riskLevel: 2,
  placement: 'home_banner',
} as const;

export const INCIDENT_SUBMIT_FACTOR = 0.1;

const FROM_DAY = dateDay(INCIDENT.from);

/** The factor on a session's purchase-submit rate: the incident's for C2 customers in mini-program sessions from its day. */
export function incidentSubmitFactor(day: number, channel: string, riskLevel: number): number {
  return day >= FROM_DAY && INCIDENT.channels.includes(channel) && riskLevel === INCIDENT.riskLevel ? INCIDENT_SUBMIT_FACTOR : 1;
}
