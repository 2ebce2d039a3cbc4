import type { FakeGraph, RecordedRequest } from '../../support/fakeGraph';

/** What the fake Graph API accepted, one entry per send, keyed by the outbox id the service passed along. */
export interface Delivery {
  key: string;
  /** The number without '+', or `bsuid:<id>` for a username user addressed by `recipient`. */
  to: string;
  at: number;
}

export function graphDeliveries(fake: FakeGraph): Delivery[] {
  return fake.delivered().map((r: RecordedRequest) => {
    const b = r.body as Record<string, unknown>;
    const to = b.to !== undefined ? String(b.to).replace(/^\+/, '') : `bsuid:${String(b.recipient)}`;
    return { key: String(b.biz_opaque_callback_data), to, at: r.at };
  });
}
