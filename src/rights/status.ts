import type { Subscriber } from '../store/subscriberStore';
import type { RightsContext } from './context';
import { outcome, type Outcome } from './outcome';

/** STATUS: the consent state and every open request with its due date. */
export async function status(ctx: Pick<RightsContext, 'requests'>, s: Subscriber): Promise<Outcome> {
  const since = s.consentAt ? s.consentAt.toISOString().slice(0, 10) : '';
  const lines: { key: string; params?: Record<string, unknown> }[] = [
    line(s.consent === 'opted_in' ? 'status.optedIn' : s.consent === 'opted_out' ? 'status.optedOut' : 'status.none', { since }),
  ];
  const open = await ctx.requests.ofPerson(s.key, { openOnly: true, limit: 10 });
  for (const r of open) {
    lines.push(
      line('status.request', {
        typeKey: `status.types.${r.type}`,
        ref: r._id.slice(-8),
        stateKey: `status.states.${r.state}`,
        due: r.dueAt.toISOString().slice(0, 10),
      }),
    );
  }
  if (open.length === 0) lines.push(line('status.noRequests'));
  return outcome('status', { kind: 'lines', lines });
}

const line = (key: string, params?: Record<string, unknown>) => ({ key, params });
