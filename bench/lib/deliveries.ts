import { envelope, messagesChange, metaWire, sign, textMessage } from '../../test/support/whatsapp';
import { TEST_APP_SECRET, TEST_PHONE_NUMBER_ID } from '../../test/support/env';

/**
 * Meta-style webhook deliveries for the load: one text message from one number per delivery,
 * serialised like Meta (test/support/whatsapp.ts) and signed over the exact bytes sent.
 */
export interface Delivery {
  body: string;
  signature: string;
}

export function waIdOf(subscriber: number): string {
  return `4917${String(subscriber).padStart(8, '0')}`;
}

export function textDelivery(waId: string, text: string, id: string, secret = TEST_APP_SECRET): Delivery {
  const body = metaWire(
    envelope(
      messagesChange({ waId, name: 'Bench Person', phoneNumberId: TEST_PHONE_NUMBER_ID }, [
        textMessage(text, { id, timestamp: Math.floor(Date.now() / 1000) }),
      ]),
    ),
  );
  return { body, signature: sign(body, secret) };
}

export function deliveryHeaders(d: Delivery): Record<string, string> {
  return { 'content-type': 'application/json', 'x-hub-signature-256': d.signature };
}
