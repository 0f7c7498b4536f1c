/**
 * Sensitivity classes of catalog members, after the PBoC JR/T 0171-2020 grading (C1-C4):
 * `public` may be published; `internal` is for the bank's staff (the default of every
 * member); `personal` identifies or describes one customer (identifiers, contact data,
 * sub-day event times); `restricted` is personal data whose leak does serious harm.
 *
 * A principal has a clearance, one of the same classes: it may read members up to it.
 */
export type Sensitivity = 'public' | 'internal' | 'personal' | 'restricted';

export const SENSITIVITIES: readonly Sensitivity[] = ['public', 'internal', 'personal', 'restricted'];

/** The class of a member that declares none. */
export const DEFAULT_SENSITIVITY: Sensitivity = 'internal';

export function isSensitivity(value: unknown): value is Sensitivity {
  return typeof value === 'string' && (SENSITIVITIES as readonly string[]).includes(value);
}

/** Whether a principal cleared for `clearance` may read a member of class `sensitivity`. */
export function clears(clearance: Sensitivity, sensitivity: Sensitivity): boolean {
  return SENSITIVITIES.indexOf(clearance) >= SENSITIVITIES.indexOf(sensitivity);
}

/** The stricter of two classes. */
export function stricter(a: Sensitivity, b: Sensitivity): Sensitivity {
  return SENSITIVITIES.indexOf(a) >= SENSITIVITIES.indexOf(b) ? a : b;
}

/**
 * Whether values of this class are personal data: event properties of such a class are
 * stored only as a keyed pseudonym (and an optional encrypted copy), never in plain text.
 *
 * ```ts
 * isPersonal('restricted'); // true
 * isPersonal('internal');   // false
 * ```
 */
export function isPersonal(sensitivity: Sensitivity): boolean {
  return clears(sensitivity, 'personal');
}
