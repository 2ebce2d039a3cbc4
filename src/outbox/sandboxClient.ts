import type { GraphClient } from './graphClient';

/**
 * Sandbox mode (no WhatsApp credentials, not production): nothing leaves the machine. Messages
 * count as sent at once; the chat simulator shows them from the conversation.
 */
export function createSandboxClient(): GraphClient {
  let n = 0;
  return {
    async sendMessage() {
      n += 1;
      return { kind: 'sent', graphId: `sandbox.${Date.now().toString(36)}.${n}` };
    },
    async uploadMedia() {
      n += 1;
      return { kind: 'uploaded', mediaId: `sandbox-media-${n}` };
    },
    async deleteMedia() {
      return { kind: 'deleted' };
    },
  };
}
