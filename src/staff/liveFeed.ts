import type { Deps } from '../deps';

/**
 * One change feed per process for every open live view: in-process notifications at once, and one
 * light poll of the newest conversation line every POLL_MS for what other replicas wrote — not one
 * poll per connection. The poll runs only while someone is listening.
 */
export const POLL_MS = 2000;

type Listener = (conversationId: string) => void;
interface Feed {
  listeners: Set<Listener>;
  timer?: NodeJS.Timeout;
  last?: string;
  onBus: Listener;
}
const feeds = new WeakMap<Deps, Feed>();

export function subscribeLive(deps: Deps, listener: Listener): () => void {
  let feed = feeds.get(deps);
  if (!feed) {
    const f: Feed = { listeners: new Set(), onBus: (id) => f.listeners.forEach((l) => l(id)) };
    feeds.set(deps, (feed = f));
  }
  const f = feed;
  f.listeners.add(listener);
  if (f.listeners.size === 1) {
    deps.bus.on('conversation', f.onBus);
    const poll = async () => {
      const newest = await deps.stores.conversation.newest().catch(() => null);
      if (!newest) return;
      const id = String(newest._id);
      if (f.last !== undefined && id !== f.last) f.onBus(String(newest.subscriberId));
      f.last = id;
    };
    void poll();
    f.timer = setInterval(() => void poll(), POLL_MS);
    f.timer.unref();
  }
  return () => {
    f.listeners.delete(listener);
    if (f.listeners.size === 0) {
      deps.bus.off('conversation', f.onBus);
      if (f.timer) clearInterval(f.timer);
      f.timer = undefined;
      f.last = undefined;
    }
  };
}
