import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import type { Deps } from '../deps';

export interface OptInLink {
  code: string;
  name: string;
  purpose: string;
  createdAt: Date;
  /** The prefilled message: START and the source's code. */
  message: string;
  /** https://wa.me/<number>?text=…, or null when WHATSAPP_DISPLAY_NUMBER is not set. */
  link: string | null;
  /** The link as a QR code (SVG), to print on a receipt or a poster. */
  qrSvg: string | null;
}

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no 0/o, 1/l: read off a poster
const newCode = () => [...randomBytes(8)].map((b) => ALPHABET[b % ALPHABET.length]).join('');

async function asLink(deps: Deps, s: { _id: string; name: string; purpose: string; createdAt: Date }): Promise<OptInLink> {
  const message = `START #${s._id}`;
  const number = deps.config.whatsapp.displayNumber;
  // https://faq.whatsapp.com/5913398998672934 (click to chat: wa.me/<number>?text=<prefilled message>)
  const link = number ? `https://wa.me/${number}?text=${encodeURIComponent(message)}` : null;
  const qrSvg = link ? await QRCode.toString(link, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }) : null;
  return { code: s._id, name: s.name, purpose: s.purpose, createdAt: s.createdAt, message, link, qrSvg };
}

/** A new opt-in source (admin): its code, wa.me link and QR code. A START through it records it as the consent's source. */
export async function createOptInLink(deps: Deps, by: string | null, r: { name: string; purpose: string }): Promise<OptInLink> {
  for (;;) {
    const code = newCode();
    const now = deps.clock.now();
    if (await deps.stores.optInSources.create({ code, name: r.name, purpose: r.purpose, by, now }))
      return asLink(deps, { _id: code, name: r.name, purpose: r.purpose, createdAt: now });
  }
}

export async function listOptInLinks(deps: Deps): Promise<OptInLink[]> {
  return Promise.all((await deps.stores.optInSources.list()).map((s) => asLink(deps, s)));
}
