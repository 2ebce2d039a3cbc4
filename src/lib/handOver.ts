/**
 * Which of this process's queue workers take what this process writes straight into hand.
 *
 * A queue item is normally written open (pending) and then claimed: one unique insert in `claims`
 * (store/claimStore.ts) per item, and a read-and-write when the claimer did not write it. When the
 * writer's own worker is running and not behind, the item is instead written already leased to
 * that worker (its first claim made at birth): no replica may take it before the lease runs out,
 * so the writer's worker works on it without a claim. If the process dies meanwhile, the item is
 * claimed like any item whose holder died, once its lease has run out.
 */
export interface HandOver {
  /** A worker takes items into hand from now on; `leaseMs()` is its lease, or null while it is behind. Returns the undo. */
  register(queue: QueueName, leaseMs: () => number | null): () => void;
  /** The lease an item written now is born with, or null: write it open, to be claimed as usual. */
  leaseFor(queue: QueueName): number | null;
}

export type QueueName = 'inbox' | 'outbox';

export function createHandOver(): HandOver {
  const takers = new Map<QueueName, () => number | null>();
  return {
    register(queue, leaseMs) {
      takers.set(queue, leaseMs);
      return () => {
        if (takers.get(queue) === leaseMs) takers.delete(queue);
      };
    },
    leaseFor: (queue) => takers.get(queue)?.() ?? null,
  };
}
