/**
 * Sensitivity classes of event properties, after the PBoC JR/T 0171-2020 grading idea:
 * `public` may be published, `internal` stays inside the bank (the default), `personal`
 * identifies or describes a person (contact data, identifiers), `restricted` is personal
 * data whose leak does serious harm (credentials, documents, biometrics).
 *
 * Defined here for events only; the same four classes for dimensions, measures and tags
 * live in `modeling/catalog/sensitivity.ts` on another branch and replace this type when
 * the two are merged (keep the names and order identical).
 */
export const SENSITIVITY_CLASSES = ['public', 'internal', 'personal', 'restricted'] as const;
export type Sensitivity = (typeof SENSITIVITY_CLASSES)[number];

/** The class of a property that declares none. */
export const DEFAULT_SENSITIVITY: Sensitivity = 'internal';

/**
 * Whether values of this class are personal data: stored only as a keyed pseudonym
 * (and an optional encrypted copy), never in plain text.
 *
 * ```ts
 * isPersonal('restricted'); // true
 * isPersonal('internal');   // false
 * ```
 */
export function isPersonal(sensitivity: Sensitivity): boolean {
  return sensitivity === 'personal' || sensitivity === 'restricted';
}
