/** The deployment's settings a use case may read (from config.ts, through the wiring). */
export interface Policy {
  defaultLocale: string;
  /** The languages the bot speaks, each with its name in itself (LANGUAGE offers them). */
  languages: { locale: string; title: string }[];
  /** The language of a number's country, when the person has not chosen one (chat/countryLocale.ts). */
  countryLocales: Record<string, string>;
  /** The business number of the simulator's chats (its people are its own). */
  sandboxNumber: string;
  /** The business numbers this deployment answers for; the first is the default sender. */
  phoneNumberIds: string[];
  business: { name: string; supportContact: string; privacyPolicyUrl: string };
  retention: { messagesDays: number; ledgerDays: number };
}
