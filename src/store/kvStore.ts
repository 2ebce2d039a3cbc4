import { Schema, type Model } from 'mongoose';
import type { Clock } from '../lib/clock';

/** Small named values: chain heads and checkpoints, the last verification, key rotation progress. */
export const kvSchema = new Schema({ _id: { type: String, required: true }, value: Schema.Types.Mixed, at: Date }, { versionKey: false, collection: 'kv' });

export type KvStore = ReturnType<typeof createKvStore>;

export function createKvStore(model: Model<{ _id: string; value: unknown; at?: Date }>, clock: Clock) {
  return {
    async get<T>(id: string): Promise<T | null> {
      return ((await model.findById(id).lean())?.value as T | undefined) ?? null;
    },
    async set(id: string, value: unknown, at: Date = clock.now()): Promise<void> {
      await model.updateOne({ _id: id }, { $set: { value, at } }, { upsert: true });
    },
    async remove(id: string): Promise<void> {
      await model.deleteOne({ _id: id });
    },
  };
}
