import { createContext, useContext } from 'react';
import { type Formats, formatsFor } from './locale-format.ts';

export { type Formats, formatsFor, type ValueFormat } from './locale-format.ts';

import type { Locale } from './locale-format.ts';

export type { Locale };

const LOCALE_KEY = 'strata.console.locale';

export function initialLocale(): Locale {
  const saved = localStorage.getItem(LOCALE_KEY);
  if (saved === 'zh-CN' || saved === 'en') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function saveLocale(locale: Locale): void {
  localStorage.setItem(LOCALE_KEY, locale);
}

export const FormatsContext = createContext<Formats>(formatsFor('en', 'UTC'));

export function useFormats(): Formats {
  return useContext(FormatsContext);
}
