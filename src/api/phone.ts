import { z } from 'zod';

/** E.164, with or without the leading "+": country code and subscriber number, 8 to 15 digits. */
export const e164 = z
  .string()
  .trim()
  .regex(/^\+?[1-9]\d{7,14}$/, 'an E.164 phone number such as +15551234567')
  .transform((s) => s.replace(/^\+/, ''));
