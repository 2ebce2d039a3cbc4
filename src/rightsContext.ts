import { SANDBOX_NUMBER } from './config';
import type { Deps } from './deps';
import { renderExportPdf } from './documents/exportPdf';
import { enqueueReplies } from './outbox/enqueue';
import { announce } from './events/announce';
import { languagesOf } from './i18n/localeOverrides';
import { securitySignal } from './privacy/alerts';
import type { RightsContext } from './rights/context';

/**
 * The use cases' context, built once per app from its dependencies: the stores and the clock,
 * plus the ports that belong to the edges (security signals, the PDF renderer, the outbox).
 */
export function createRightsContext(deps: Omit<Deps, 'rights'>): RightsContext {
  const { config } = deps;
  return {
    ...deps.stores,
    clock: deps.clock,
    keys: deps.pii,
    policy: {
      defaultLocale: config.defaultLocale,
      languages: languagesOf(deps.localeOverrides),
      countryLocales: config.countryLocales,
      sandboxNumber: SANDBOX_NUMBER,
      phoneNumberIds: config.whatsapp.phoneNumberIds,
      business: config.business,
      retention: config.retention,
    },
    signal: (event, fields) => securitySignal(deps, event, fields),
    translate: (locale, key) => deps.i18n.t(locale, key),
    // A stored language the bot no longer speaks (an override removed): the deployment's default, dates too.
    renderPdf: (locale, data) => renderExportPdf(deps.i18n, deps.i18n.locales.includes(locale) ? locale : config.defaultLocale, data),
    queueReplies: async (b) => {
      await enqueueReplies(deps as Deps, { ...b, category: 'rights' });
    },
    announce: (e) => announce(deps as Deps, e),
  };
}
