import { z } from 'zod';

/**
 * The outer shape of a WhatsApp Business Account webhook delivery: entry[] × changes[] × {field, value}
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components). Items inside `value`
 * are validated loosely: Meta adds fields and types over time, and anything we do not understand is
 * kept raw, not rejected.
 */
export const changeSchema = z.object({ field: z.string().min(1).max(128), value: z.record(z.string(), z.unknown()) });
// Entries and changes are checked one by one in explode.ts, so one malformed change does not cost
// the whole delivery (and with it, say, a valid STOP beside it).
export const envelopeSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.unknown()).min(1),
});
export type Envelope = z.infer<typeof envelopeSchema>;
