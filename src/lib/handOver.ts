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
  /** A worker takes items into hand from now on. Returns the undo. */
  register(queue: QueueName, taker: Taker): () => void;
  /**
   * Reserves places for items about to be written: the lease they are born with, or null (write
   * them open, to be claimed as usual). Handing them over (the worker's `offer`) ends the
   * reservation; items that were not written (duplicates, a failed write) are given back with `forgo`.
   */
  leaseFor(queue: QueueName, ids: string[]): number | null;
  forgo(queue: QueueName, ids: string[]): void;
}

export type QueueName = 'inbox' | 'outbox';

export interface Taker {
  leaseMs: number;
  /** False while it is not running or is far behind. */
  reserve(ids: string[]): boolean;
  forgo(ids: string[]): void;
}

export function createHandOver(): HandOver {
  const takers = new Map<QueueName, Taker>();
  return {
    register(queue, taker) {
      takers.set(queue, taker);
      return () => {
        if (takers.get(queue) === taker) takers.delete(queue);
      };
    },
    leaseFor(queue, ids) {
      const t = takers.get(queue);
      return t && ids.length > 0 && t.reserve(ids) ? t.leaseMs : null;
    },
    forgo: (queue, ids) => takers.get(queue)?.forgo(ids),
  };
}
