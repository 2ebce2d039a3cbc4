import { Schema, type Model } from 'mongoose';
import { upsertTolerant } from './insertOnce';

export const suppressionSchema = new Schema(
  {
    _id: { type: String, required: true }, // keyed HMAC of the number
    reason: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'suppressions' },
);

/**
 * Meta's own marketing stop (`user_preferences` stop, or a 131050 failure) for a number we hold no
 * profile for: remembered pseudonymously so that a consent older than it cannot make the number
 * sendable, and applied to the profile when one is created.
 */
export const optOutSignalSchema = new Schema(
  {
    _id: { type: String, required: true }, // keyed HMAC of the number, like a suppression
    source: { type: String, required: true }, // meta_preferences | meta_131050
    at: { type: Date, required: true }, // when the person acted
  },
  { versionKey: false, collection: 'optOutSignals' },
);

export type SignalSource = 'meta_preferences' | 'meta_131050';

export type SuppressionStore = ReturnType<typeof createSuppressionStore>;

/**
 * Who must never be marketed to again (the tokens of erased people) and Meta's marketing stops for
 * numbers we hold no profile for. Both are keyed tokens only: nothing here names a person.
 */
export function createSuppressionStore(
  suppressions: Model<{ _id: string; reason: string; at: Date }>,
  signals: Model<{ _id: string; source: string; at: Date }>,
) {
  return {
    isSuppressed: async (token: string) => Boolean(await suppressions.exists({ _id: token })),
    suppressedAt: async (token: string) => (await suppressions.findById(token, { at: 1 }).lean())?.at ?? null,
    /** Which of these tokens are suppressed. */
    async suppressedAmong(tokens: string[]): Promise<Set<string>> {
      const unique = [...new Set(tokens)];
      if (unique.length === 0) return new Set();
      // A delivery names one or a few people: asked by `_id` each, as FerretDB v1 does not push
      // `$in` down (it would read the whole list for every status webhook); a long list in one query.
      if (unique.length > 8) return new Set((await suppressions.find({ _id: { $in: unique } }, { _id: 1 }).lean()).map((x) => x._id));
      const hits = await Promise.all(unique.map(async (t) => ((await suppressions.exists({ _id: t })) ? t : null)));
      return new Set(hits.filter((t): t is string => t !== null));
    },
    async suppress(tokens: string[], reason: string, when: Date): Promise<void> {
      for (const t of tokens) await upsertTolerant(suppressions.collection.insertOne({ _id: t as never, reason, at: when }));
    },
    lift: (token: string) => suppressions.deleteOne({ _id: token }).then(() => undefined),

    /** Meta's stop for an unknown number: the newest one counts. */
    rememberSignal: (token: string, source: SignalSource, when: Date) =>
      upsertTolerant(signals.updateOne({ _id: token }, { $max: { at: when }, $setOnInsert: { source } }, { upsert: true })),
    signalOf: async (token: string) => (await signals.findById(token).lean()) as { source: SignalSource; at: Date } | null,
    dropSignals: (tokens: string[]) => signals.deleteMany({ _id: { $in: tokens } }).then(() => undefined),
  };
}
