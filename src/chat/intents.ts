/** What a whole message can ask for; each is a list of phrases in every keyword pack. */
export type Intent = 'opt_out' | 'opt_in' | 'help' | 'my_data' | 'delete' | 'status' | 'language' | 'yes' | 'no';
export const INTENTS: readonly Intent[] = ['opt_out', 'opt_in', 'help', 'my_data', 'delete', 'status', 'language', 'yes', 'no'];
