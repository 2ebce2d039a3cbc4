import type { ConsentSource } from '../store/consentStore';
import type { SubjectIdentity, RightsContext } from './context';

/**
 * A consent change, told to the other systems that hold the person (RightsContext.announce): every
 * marketing tool must stop when they withdraw (GDPR Art. 21(3)), and may rely on a grant with its
 * source. Keyed by the request, so a replayed step announces nothing twice.
 */
export function announceConsent(
  ctx: Pick<RightsContext, 'announce'>,
  change: 'granted' | 'withdrawn',
  who: { token: string; identity: () => SubjectIdentity },
  r: { requestId: string; source: ConsentSource | string; channel: string; at: Date; sourceRef?: string },
): Promise<void> {
  return ctx.announce({
    id: `${r.requestId}:consent.${change}`,
    type: `consent.${change}`,
    subjectToken: who.token,
    identity: who.identity,
    at: r.at,
    data: { source: r.source, channel: r.channel, requestId: r.requestId, ...(r.sourceRef ? { link: r.sourceRef } : {}) },
  });
}
