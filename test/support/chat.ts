import request from 'supertest';
import { createGraphClient } from '../../src/outbox/graphClient';
import { createWorkers, type WorkerSet } from '../../src/workers';
import { FakeGraph } from './fakeGraph';
import { createHarness, type Harness, type TestClock } from './harness';
import { buttonReply, envelope, messagesChange, signed, textMessage } from './whatsapp';

export interface ChatHarness extends Harness {
  fake: FakeGraph;
  workers: WorkerSet;
  /** Posts a signed delivery and runs the workers until nothing is left. */
  post(payload: unknown): Promise<void>;
  say(waId: string, text: string, opts?: { name?: string; id?: string }): Promise<Record<string, any>[]>;
  press(waId: string, buttonId: string, title?: string): Promise<Record<string, any>[]>;
  /** What the fake Graph API delivered to this number since the last call. */
  newReplies(waId: string): Record<string, any>[];
  t(locale: string, key: string, params?: Record<string, unknown>): string;
}

/** The real app, workers and Graph client against a fake Graph API on loopback. */
export async function createChatHarness(label: string, opts: { env?: Record<string, string | undefined>; clock?: TestClock } = {}): Promise<ChatHarness> {
  const fake = await new FakeGraph().start();
  const h = await createHarness(label, { ...opts, env: { GRAPH_API_BASE_URL: fake.url, GRAPH_API_TIMEOUT_MS: '2000', ...opts.env } });
  const workers = createWorkers(h.deps, { graph: createGraphClient(h.deps.config), outbox: { concurrency: 4 } });
  const seen = new Map<string, number>();
  const ts = () => Math.floor(h.clock.now().getTime() / 1000);

  async function post(payload: unknown) {
    const { raw, signature } = signed(payload);
    await request(h.app).post('/webhook').set('content-type', 'application/json').set('x-hub-signature-256', signature).send(raw).expect(200);
    await workers.drain();
  }
  function newReplies(waId: string) {
    const all = fake.deliveredTo(waId);
    const from = seen.get(waId) ?? 0;
    seen.set(waId, all.length);
    return all.slice(from);
  }
  return {
    ...h,
    fake,
    workers,
    post,
    async say(waId, text, o = {}) {
      newReplies(waId);
      await post(envelope(messagesChange({ waId, name: o.name }, [textMessage(text, { id: o.id, timestamp: ts() })])));
      return newReplies(waId);
    },
    async press(waId, buttonId, title = buttonId) {
      newReplies(waId);
      // A question's buttons carry the question's nonce ("erase.yes.<nonce>"): pressing "erase.yes"
      // presses the button of that name on the last question this number was sent, as a person would.
      if (/^(erase|optout)\.(yes|no)$/.test(buttonId)) {
        const offered = fake
          .deliveredTo(waId)
          .flatMap((b) => (b.interactive?.action?.buttons ?? []).map((x: { reply: { id: string; title: string } }) => x.reply))
          .filter((r: { id: string }) => r.id.startsWith(`${buttonId}.`));
        const last = offered.at(-1);
        if (last) {
          buttonId = last.id;
          if (title === buttonId.split('.').slice(0, 2).join('.')) title = last.title;
        }
      }
      const m = buttonReply(buttonId, title ?? buttonId);
      m.timestamp = String(ts());
      await post(envelope(messagesChange({ waId }, [m])));
      return newReplies(waId);
    },
    newReplies,
    t: (locale, key, params) =>
      h.deps.i18n.t(locale, key, { business: 'Acme Test Shop', support: 'help@acme.test', policy: 'https://acme.test/privacy', ...params }),
    async close() {
      await workers.stop();
      await fake.stop();
      await h.close();
    },
  };
}

/** The text of a delivered message body, whatever its type. */
export function bodyText(b: Record<string, any>): string {
  return b.text?.body ?? b.interactive?.body?.text ?? b.document?.caption ?? '';
}
