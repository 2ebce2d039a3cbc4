import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Locale } from '../i18n/locales';

/**
 * The language a number's country most likely reads, for people who have not told us theirs and
 * whose words exist in several languages ("PARAR" is Spanish and Portuguese; from +55 it is
 * Portuguese). Regions by ITU country code, from libphonenumber-js. Countries with several major
 * languages (Switzerland, Belgium, Canada…) are left out: there the deployment default decides.
 * COUNTRY_LOCALES adds to or replaces entries (`BR:pt,CH:de`).
 */
export const DEFAULT_COUNTRY_LOCALES: Readonly<Record<string, Locale>> = Object.freeze({
  ...Object.fromEntries(['BR', 'PT', 'AO', 'MZ', 'CV', 'GW', 'ST', 'TL'].map((c) => [c, 'pt'])),
  ...Object.fromEntries(
    ['ES', 'MX', 'AR', 'CO', 'CL', 'PE', 'VE', 'EC', 'GT', 'CU', 'BO', 'DO', 'HN', 'PY', 'SV', 'NI', 'CR', 'PA', 'UY', 'PR', 'GQ'].map((c) => [c, 'es']),
  ),
  ...Object.fromEntries(
    [
      'FR',
      'MC',
      'LU',
      'SN',
      'CI',
      'CM',
      'CD',
      'CG',
      'MG',
      'ML',
      'BF',
      'NE',
      'TD',
      'GN',
      'BJ',
      'TG',
      'HT',
      'GA',
      'DJ',
      'KM',
      'CF',
      'RE',
      'GP',
      'MQ',
      'GF',
      'YT',
      'PF',
      'NC',
      'PM',
      'BL',
      'MF',
      'WF',
    ].map((c) => [c, 'fr']),
  ),
  ...Object.fromEntries(['DE', 'AT', 'LI'].map((c) => [c, 'de'])),
  ID: 'id',
  ...Object.fromEntries(['GB', 'IE', 'AU', 'NZ', 'NG', 'GH', 'KE', 'ZA', 'JM', 'TT'].map((c) => [c, 'en'])),
}) as Record<string, Locale>;

/** The locale of a number's country, or null (unknown country, or one left to the default). */
export function localeOfNumber(waId: string | undefined, overrides: Readonly<Record<string, Locale>> = {}): Locale | null {
  if (!waId) return null;
  const country = parsePhoneNumberFromString(`+${waId.replace(/\D/g, '')}`)?.country;
  if (!country) return null;
  return overrides[country] ?? DEFAULT_COUNTRY_LOCALES[country] ?? null;
}
