import { handleMessage } from '../chat/handleMessage';
import type { KeywordPacks } from '../chat/keywords';
import type { Deps } from '../deps';
import { handleStatus } from '../outbox/handleStatus';
import { marketingPreference } from '../rights/marketingPreference';
import type { ClaimedItem, ItemHandler } from './worker';

/** Routes a claimed inbox item to the code for its kind. */
export function createItemHandler(deps: Deps, packs: KeywordPacks): ItemHandler {
  return async (item: ClaimedItem) => {
    switch (item.field) {
      case 'messages':
        return handleMessage(deps, packs, item);
      case 'statuses':
        return handleStatus(deps, item);
      case 'user_preferences': {
        const p = item.payload.item;
        if (p.category !== 'marketing_messages') return;
        await marketingPreference(deps, { requestId: item.id, waId: p.wa_id || undefined, bsuid: p.user_id, value: String(p.value), at: new Date(Number(p.timestamp) * 1000) });
        return;
      }
    }
  };
}
