import { z } from 'zod';

/**
 * The outer shape of a WhatsApp Business Account webhook delivery (Meta "Webhooks › Payload"):
 * entry[] × changes[] × {field, value}. Items inside `value` are validated loosely: Meta adds
 * fields and types over time, and anything we do not understand is kept raw, not rejected.
 */
const change = z.object({ field: z.string(), value: z.record(z.string(), z.unknown()) });
export const envelopeSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(z.object({ id: z.string().optional(), changes: z.array(change) })).min(1),
});
export type Envelope = z.infer<typeof envelopeSchema>;
