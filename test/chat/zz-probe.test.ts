import { loadKeywordPacks, recognise } from '../../src/chat/keywords';
import { createTranslator } from '../../src/i18n/i18n';
import { renderExportPdf } from '../../src/rights/exportPdf';
import { inputOf } from '../../src/chat/decide';
import { localeOfNumber } from '../../src/chat/countryLocale';

const packs = loadKeywordPacks();
const optouts: Record<string, string[]> = {
  en: ["please remove my number from your system", "I never signed up for this, leave me out", "how do I make these messages stop", "cut it out with the promos", "unsubscribe me from all of this please", "I'm sick of your messages", "quit bugging me", "no more whatsapps from you thanks", "delete me from your mailing list", "I don't want any more offers"],
  es: ["no quiero recibir más ofertas", "bórrenme de su lista", "ya basta de mensajes", "déjenme en paz", "no me escriban más", "quiero darme de baja de esto", "cancelen mi suscripción", "eliminen mi número por favor", "paren ya con la publicidad", "no me interesa, no me manden nada"],
  pt: ["me tira dessa lista", "não quero mais promoções", "parem de mandar mensagem", "chega de mensagens", "quero cancelar a inscrição", "me deixem em paz", "removam meu número", "não me mandem mais nada", "não tenho interesse, obrigado", "quero sair dessa lista"],
  fr: ["arrêtez de m'écrire", "retirez-moi de votre liste", "je veux me désabonner", "plus de pub merci", "laissez-moi tranquille", "ne m'envoyez plus rien", "supprimez mon numéro", "ça suffit les messages", "je ne suis pas intéressé", "désinscrivez-moi svp"],
  de: ["bitte nehmt mich aus dem Verteiler", "ich will das nicht mehr", "schreibt mir nicht mehr", "löscht meine Nummer", "kein Interesse danke", "hört endlich auf mir zu schreiben", "ich möchte mich abmelden", "lasst mich in Ruhe", "bitte nicht mehr kontaktieren", "ich will keine Angebote mehr"],
  id: ["tolong berhenti kirim pesan", "jangan kirim pesan lagi", "saya tidak mau terima promo lagi", "hapus nomor saya", "keluarkan saya dari daftar", "saya mau berhenti langganan", "stop spam", "jangan ganggu saya", "gak usah kirim-kirim lagi", "saya tidak tertarik"],
};
const unrelated = [
  "where is the bus stop near your shop?", "I stopped by yesterday, no one was there", "can you send me the invoice again", "don't send me the wrong size again lol",
  "my order never arrived, I want a refund", "I love your promos, keep sending me deals!", "I don't want to miss any offers", "remove the item from my cart",
  "¿pueden enviarme la factura otra vez?", "no quiero perder ninguna oferta", "não pare de mandar promoções, adoro", "je ne veux pas rater vos promos",
  "keine Sorge, ich komme morgen", "Ich will nicht mehr warten, wo ist mein Paket?", "kein Problem", "saya tidak sabar menunggu promo", "jangan lupa kirim invoice",
  "It's not spam, I actually want it", "Stop! I wanted the blue one, not the red", "please take me off hold, I've been waiting", "I'm not interested in the red one, do you have blue?",
  "Don't stop the music", "nein, ich möchte keine Rechnung per Post, lieber per Mail", "Kein Problem, nicht mehr nötig", "no me interesa el rojo, ¿tienen azul?", "le rouge ne m'intéresse pas",
  "Mi número cambió, eliminen el viejo", "enough already, just ship it", "Can you remove me from the waitlist for size M and add me to L?",
];
test('probe', () => {
  const out: string[] = [];
  for (const [l, ss] of Object.entries(optouts)) for (const s of ss) { const r = recognise(packs, s, []); out.push(`${l} ${r.kind === 'unknown' ? 'MISS' : 'ok  '} ${JSON.stringify(r)} | ${s}`); }
  out.push('--- unrelated');
  for (const s of unrelated) { const r = recognise(packs, s, []); out.push(`${r.kind === 'unknown' ? 'ok  ' : 'HIT '} ${JSON.stringify(r)} | ${s}`); }
  out.push('--- preferred');
  for (const [s, p] of [["stop", ['pt']], ["PARAR", []], ["info", ['es']], ["stop sending me stuff", ['de']], ["no", []], ["parar", ['es']], ["sair", []], ["cancelar", []]] as [string, any][]) out.push(`${JSON.stringify(recognise(packs, s, p))} | ${s} ${p}`);
  out.push('--- timing');
  const hostile = [
    'stop '.repeat(820), "don't ".repeat(700), 'keine '.repeat(700), 'no '.repeat(1400), ('a,'.repeat(2000)),
    'stop stop stop send '.repeat(200), 'take me off '.repeat(340), "@neg ".repeat(800), 'x'.repeat(4096), ('jangan '.repeat(580)), ('ne '.repeat(1300)), ('não '.repeat(1000)), ('\u0301'.repeat(4000)), ('ﷺ'.repeat(4000)),
  ];
  for (const h of hostile) { const t = process.hrtime.bigint(); const r = recognise(packs, h, []); out.push(`${Number(process.hrtime.bigint() - t) / 1e6}ms ${h.length} ${r.kind} ${h.slice(0, 20)}`); }
  out.push('--- inputOf');
  for (const m of [{ type: 'sticker', sticker: { caption: 'STOP' } }, { type: 'document', document: { caption: { toString: () => 'STOP' } } }, { type: 'image', image: { caption: ['STOP'] } }, { type: 'audio', audio: {} }, { type: 'text', text: { body: { a: 1 } } }, { type: 'text', text: {} }, { type: 'button', button: { payload: 'help.stop', text: 'x' } }, { type: 'interactive', interactive: { nfm_reply: { body: 'STOP' } } }])
    out.push(`${JSON.stringify(inputOf(m as any))} <- ${JSON.stringify(m)}`);
  out.push('--- country');
  for (const n of ['5511999999999', '351912345678', '41791234567', '12025550123', '6281234567890', '491701234567', '447700900123', '+', 'abc', '1'.repeat(400)]) out.push(`${n.slice(0, 20)} ${localeOfNumber(n)}`);
  console.log(out.join('\n'));
});

test('pdf hostile', async () => {
  const tr = createTranslator();
  const big = 'A'.repeat(4096);
  const mk = (texts: string[], name: string) => ({
    schema: 'x', schemaVersion: 1, generatedAt: new Date().toISOString(),
    controller: { name: 'Biz\u0000\u202e', contact: 'x', privacyPolicy: 'y' },
    subject: { whatsappNumber: '+1', businessScopedUserId: null, profileName: name, language: 'xx-INVALID', firstContactAt: new Date(), lastActivityAt: new Date() },
    consent: { marketing: 'opted_out', since: null, history: [{ action: 'weird', scope: 'm', source: '__proto__', detail: '\u0007', at: new Date() }] },
    messages: texts.map((t, i) => ({ direction: 'in', kind: 'text', text: t, at: new Date(i), by: 'you', status: null })),
    requests: [], processing: { purposes: [], recipients: [], source: '', retention: { conversationMessagesDays: 1, pseudonymousRequestRecordDays: 1 } },
  });
  const cases: [string, any, string][] = [
    ['control+rtl+emoji', mk(['\u0000\u0001\u001b[31m\u202e\u2066مرحبا بالعالم שלום 👨‍👩‍👧‍👦🏳️‍🌈 \uD800 lone surrogate', '\uFEFF\u200B'], '\u202eevil\u0000'), 'en'],
    ['huge 2000 x 4KB', mk(Array.from({ length: 2000 }, () => big), 'n'), 'en'],
    ['one 1MB no spaces', mk(['x'.repeat(1_000_000)], 'n'), 'de'],
    ['zalgo', mk(['Z' + '\u0301\u0302\u0303'.repeat(3000)], 'n'), 'fr'],
    ['bad locale', mk(['hi'], 'n'), 'zz_invalid!!'],
  ];
  for (const [n, d, l] of cases) {
    const t = Date.now();
    try { const b = await renderExportPdf(tr, l, d); console.log(`${n}: ok ${b.length} bytes ${Date.now() - t}ms`); }
    catch (e) { console.log(`${n}: THREW ${(e as Error).message.slice(0, 200)} after ${Date.now() - t}ms`); }
  }
}, 240000);
