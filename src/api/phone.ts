import { isPossiblePhoneNumber } from 'libphonenumber-js';
import { z } from 'zod';

/**
 * E.164, with or without the leading "+": a country code and a number of a length that country
 * uses (libphonenumber-js; "possible", not "valid": numbering plans change faster than the library,
 * and a number we cannot reach is refused by Meta anyway). Returned as digits only.
 */
export const e164 = z
  .string()
  .trim()
  .regex(/^\+?[1-9]\d{5,14}$/, 'an E.164 phone number such as +15551234567')
  .refine((s) => isPossiblePhoneNumber(`+${s.replace(/^\+/, '')}`), 'an E.164 phone number such as +15551234567: no country uses this length')
  .transform((s) => s.replace(/^\+/, ''));
