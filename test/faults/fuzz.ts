/**
 * A deterministic corpus of mutated WhatsApp webhook deliveries, built from the shared fixtures
 * (the WhatsApp fixtures beside the project): dropped, duplicated and retyped fields, huge strings,
 * unicode, deep nesting, wrong types for ids and timestamps, arrays where objects are expected,
 * empty entry/changes, batches of many items, and a few byte-level corruptions. Every payload is
 * signed like Meta signs (test/support/whatsapp.ts), so it passes the signature check and reaches
 * the parser, the ingest and the worker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, metaWire, sign } from '../support/whatsapp';
import { between, pick, rng } from './support/random';

export interface FuzzCase {
  n: number;
  base: string;
  mutations: string[];
  raw: Buffer;
  signature: string;
}

type J = any;

export function loadBases(): { name: string; doc: J }[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ name: f.replace(/\.json$/, ''), doc: JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) }))
    .filter((b) => b.doc && b.doc.object === 'whatsapp_business_account');
}

const clone = (x: J): J => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));

/** Every (parent, key) below the root, depth first. */
function slots(doc: J): { parent: J; key: string | number; path: string }[] {
  const out: { parent: J; key: string | number; path: string }[] = [];
  const walk = (node: J, p: string, depth: number) => {
    if (depth > 12 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        out.push({ parent: node, key: i, path: `${p}[${i}]` });
        walk(v, `${p}[${i}]`, depth + 1);
      });
    } else {
      for (const k of Object.keys(node)) {
        out.push({ parent: node, key: k, path: `${p}.${k}` });
        walk(node[k], `${p}.${k}`, depth + 1);
      }
    }
  };
  walk(doc, '$', 0);
  return out;
}

const ID_KEYS = new Set([
  'id',
  'timestamp',
  'from',
  'wa_id',
  'recipient_id',
  'phone_number_id',
  'from_user_id',
  'user_id',
  'status',
  'type',
  'field',
  'object',
  'value',
  'category',
]);

const UNICODE = [
  'STOP',
  'ＳＴＯＰ',
  'sτop',
  'Stop\u200b',
  '\u202eSTOP',
  'ßtöp',
  'إلغاء',
  '停止',
  '🛑🛑🛑',
  '👨‍👩‍👧‍👦',
  'é'.normalize('NFD'),
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '\uffff\ufffe',
  'BORRAR MIS DATOS',
  'ME DÉ BAJA',
  '\t\n\r',
  '%00%0a',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  "'; DROP TABLE inbox; --",
  '\\',
  '"',
  '/',
];

function unicodeString(r: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    if (r() < 0.5) parts.push(pick(r, UNICODE));
    else parts.push(String.fromCodePoint(Math.floor(r() * 0x110000))); // any code point, lone surrogates included
  }
  return parts.join(r() < 0.5 ? '' : ' ');
}

function weirdValue(r: () => number): J {
  return pick(r, [
    null,
    true,
    false,
    0,
    -1,
    -0,
    1.5,
    1e308,
    -1e308,
    2 ** 53 + 1,
    '',
    ' ',
    'null',
    'undefined',
    'NaN',
    'Infinity',
    '-1',
    '1e400',
    '0x1F',
    '99999999999999999999999999999',
    [],
    {},
    [1, 2, 3],
    [null],
    [{}],
    { $gt: '' },
    { $where: '1' },
    { toString: 'x', valueOf: 1 },
    JSON.parse('{"__proto__":{"polluted":true}}'),
    ['STOP'],
    { body: 'STOP' },
  ]);
}

const DEEP: string[] = [];
/** A marker replaced after serialisation with a nesting too deep for a recursive JSON.stringify. */
function deep(depth: number, kind: 'array' | 'object'): string {
  DEEP.push(kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  return `__DEEP_${DEEP.length - 1}__`;
}

const HUGE: string[] = [];
/** A marker replaced after serialisation with a long string (keeps the object walk cheap). */
function huge(r: () => number, size: number): string {
  const unit = pick(r, ['x', 'STOP ', 'é', '🛑', '\\/', '\u0000']);
  HUGE.push(unit.repeat(Math.ceil(size / unit.length)));
  return `__HUGE_${HUGE.length - 1}__`;
}

type Mutator = (doc: J, r: () => number) => string | null;

const pickSlot = (doc: J, r: () => number, filter?: (s: { key: string | number; parent: J }) => boolean) => {
  const all = slots(doc).filter((s) => !filter || filter(s));
  return all.length ? pick(r, all) : null;
};

const MUTATORS: Record<string, Mutator> = {
  drop(doc, r) {
    const s = pickSlot(doc, r);
    if (!s) return null;
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
    else delete s.parent[s.key];
    return `drop ${s.path}`;
  },
  duplicate(doc, r) {
    const s = pickSlot(doc, r);
    if (!s) return null;
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 0, clone(s.parent[s.key as number]));
    else s.parent[`${s.key}`.toUpperCase() === `${s.key}` ? `${s.key}_` : `${s.key}`.toUpperCase()] = clone(s.parent[s.key]);
    return `duplicate ${s.path}`;
  },
  retype(doc, r) {
    const s = pickSlot(doc, r);
    if (!s) return null;
    const v = weirdValue(r);
    s.parent[s.key] = clone(v);
    return `retype ${s.path}=${JSON.stringify(v)}`;
  },
  idWrongType(doc, r) {
    const s = pickSlot(doc, r, (x) => ID_KEYS.has(String(x.key)));
    if (!s) return null;
    const v = weirdValue(r);
    s.parent[s.key] = clone(v);
    return `id ${s.path}=${JSON.stringify(v)}`;
  },
  hugeString(doc, r) {
    const s = pickSlot(doc, r);
    if (!s) return null;
    const roll = r();
    const size = roll < 0.6 ? 10_000 : roll < 0.93 ? 100_000 : roll < 0.985 ? 1_000_000 : roll < 0.995 ? 2_900_000 : 3_300_000;
    s.parent[s.key] = huge(r, size);
    return `huge ${s.path} ${size}`;
  },
  unicode(doc, r) {
    const s = pickSlot(doc, r, (x) => typeof x.parent[x.key] === 'string');
    if (!s) return null;
    s.parent[s.key] = unicodeString(r);
    return `unicode ${s.path}`;
  },
  deepNest(doc, r) {
    const s = pickSlot(doc, r);
    if (!s) return null;
    const depth = pick(r, [20, 101, 500, 5000, 50_000]);
    s.parent[s.key] = deep(depth, r() < 0.5 ? 'array' : 'object');
    return `deep ${s.path} ${depth}`;
  },
  wrapInArray(doc, r) {
    const s = pickSlot(doc, r, (x) => x.parent[x.key] !== null && typeof x.parent[x.key] === 'object' && !Array.isArray(x.parent[x.key]));
    if (!s) return null;
    s.parent[s.key] = [s.parent[s.key]];
    return `wrap ${s.path}`;
  },
  objectForArray(doc, r) {
    const s = pickSlot(doc, r, (x) => Array.isArray(x.parent[x.key]));
    if (!s) return null;
    s.parent[s.key] = r() < 0.5 ? (s.parent[s.key][0] ?? {}) : Object.assign({}, s.parent[s.key]);
    return `unwrap ${s.path}`;
  },
  empty(doc, r) {
    const s = pickSlot(doc, r, (x) => x.parent[x.key] !== null && typeof x.parent[x.key] === 'object');
    if (!s) return null;
    s.parent[s.key] = r() < 0.5 ? [] : {};
    return `empty ${s.path}`;
  },
  structural(doc, r) {
    const which = Math.floor(r() * 12);
    switch (which) {
      case 0:
        doc.entry = [];
        return 'entry=[]';
      case 1:
        if (doc.entry?.[0]) doc.entry[0].changes = [];
        return 'changes=[]';
      case 2:
        doc.entry = [{}];
        return 'entry=[{}]';
      case 3:
        if (doc.entry?.[0]) doc.entry[0].changes = [{}];
        return 'changes=[{}]';
      case 4:
        if (doc.entry?.[0]?.changes?.[0]) doc.entry[0].changes[0].value = pick(r, [null, [], 'x', 1, {}]);
        return 'value=weird';
      case 5:
        if (doc.entry?.[0]?.changes?.[0])
          doc.entry[0].changes[0].field = pick(r, [
            '',
            'message_template_status_update',
            'account_update',
            'user_preferences',
            'statuses',
            'history',
            'smb_message_echoes',
          ]);
        return 'field=other';
      case 6:
        doc.object = pick(r, ['page', 'instagram', '', null, 1, ['whatsapp_business_account']]);
        return 'object=other';
      case 7:
        doc.entry = doc.entry?.[0] ?? {};
        return 'entry=object';
      case 8: {
        const v = doc.entry?.[0]?.changes?.[0]?.value;
        if (v) {
          for (const k of ['messages', 'statuses', 'contacts', 'user_preferences'])
            if (v[k]) v[k] = pick(r, [v[k][0] ?? {}, null, 'x', 0, [null], [[]], [1, 'a']]);
        }
        return 'items=weird';
      }
      case 9: {
        const v = doc.entry?.[0]?.changes?.[0]?.value;
        if (v) v.messages = [...(v.messages ?? []), null, 1, 'STOP', []];
        return 'messages+=junk';
      }
      case 10: {
        const v = doc.entry?.[0]?.changes?.[0]?.value;
        if (v) v.statuses = [...(v.statuses ?? []), null, {}, { id: null, status: null }];
        return 'statuses+=junk';
      }
      default:
        doc.entry = [...(doc.entry ?? []), ...(doc.entry ?? []), ...(doc.entry ?? [])];
        return 'entry x3';
    }
  },
  manyItems(doc, r) {
    const v = doc.entry?.[0]?.changes?.[0]?.value;
    const key = v && ['messages', 'statuses', 'user_preferences'].find((k) => Array.isArray(v[k]) && v[k].length);
    if (!key) return null;
    const n = pick(r, [20, 100, 1000]);
    const proto = v[key][0];
    v[key] = Array.from({ length: n }, (_, i) => ({ ...proto, id: `${proto?.id ?? 'x'}.many${i}`, timestamp: String(Number(proto?.timestamp ?? 0) + i) }));
    return `${key} x${n}`;
  },
  strangeKeys(doc, r) {
    const s = pickSlot(doc, r, (x) => x.parent[x.key] !== null && typeof x.parent[x.key] === 'object' && !Array.isArray(x.parent[x.key]));
    const target = s ? s.parent[s.key] : doc;
    const k = pick(r, ['__proto__', 'constructor', 'prototype', '$set', '$where', 'a.b', '', ' ', '_id', 'hasOwnProperty', 'toJSON']);
    Object.defineProperty(target, k, { value: weirdValue(r), enumerable: true, configurable: true, writable: true });
    return `key ${s?.path ?? '$'}.${k}`;
  },
  replaceRoot(_doc, r) {
    return `root=${JSON.stringify(pick(r, [null, [], {}, 'whatsapp_business_account', 0, true, [{ object: 'whatsapp_business_account' }]]))}`;
  },
};

const WEIGHTS: [string, number][] = [
  ['drop', 14],
  ['duplicate', 6],
  ['retype', 14],
  ['idWrongType', 14],
  ['hugeString', 3],
  ['unicode', 10],
  ['deepNest', 3],
  ['wrapInArray', 5],
  ['objectForArray', 5],
  ['empty', 5],
  ['structural', 10],
  ['manyItems', 0.2],
  ['strangeKeys', 5],
  ['replaceRoot', 1],
];
const TOTAL = WEIGHTS.reduce((a, [, w]) => a + w, 0);

function pickMutator(r: () => number): string {
  let x = r() * TOTAL;
  for (const [name, w] of WEIGHTS) {
    x -= w;
    if (x < 0) return name;
  }
  return 'retype';
}

/**
 * A number of its own for every payload (so one person's queue does not hold up the corpus), and
 * with `fresh` new message ids and often a current timestamp, so the items are stored and processed.
 * Without `fresh` the fixture's ids stay: a redelivery, parsed then deduplicated.
 */
function refresh(doc: J, n: number, r: () => number, nowSec: number, fresh: boolean): void {
  const waId = `1555740${String(n % 10_000).padStart(4, '0')}`;
  // Fresh items get a current time (most of them) or one inside the replay window; the fixtures' own
  // times are months old and would only be kept aside as stale.
  const ts = fresh ? String(nowSec - Math.floor(r() < 0.6 ? r() * 600 : r() * 6 * 86_400)) : null;
  let i = 0;
  for (const e of doc.entry ?? []) {
    for (const c of e.changes ?? []) {
      const v = c.value ?? {};
      for (const ct of v.contacts ?? []) if (ct.wa_id) ct.wa_id = waId;
      for (const m of v.messages ?? []) {
        if (fresh) m.id = `wamid.FUZZ${n}.${i++}`;
        if (m.from) m.from = waId;
        if (ts) m.timestamp = ts;
        if (fresh && m.type === 'text' && r() < 0.5) m.text = { body: pick(r, ['STOP', 'START', 'HELP', 'STATUS', 'MY DATA', 'hello', 'LANGUAGE', 'yes']) };
      }
      for (const s of v.statuses ?? []) {
        if (fresh) s.id = `wamid.FUZZSTATUS${n}.${i++}`;
        if (s.recipient_id) s.recipient_id = waId;
        if (ts) s.timestamp = ts;
      }
      for (const p of v.user_preferences ?? []) {
        if (p.wa_id) p.wa_id = waId;
        if (fresh) p.timestamp = ts ?? String(nowSec - n);
      }
    }
  }
}

/** Byte-level corruptions, still signed: truncated, invalid UTF-8, BOM, trailing garbage. */
function corruptBytes(raw: Buffer, r: () => number): { raw: Buffer; what: string } {
  switch (Math.floor(r() * 5)) {
    case 0:
      return { raw: raw.subarray(0, Math.floor(r() * raw.length)), what: 'bytes truncated' };
    case 1: {
      const b = Buffer.from(raw);
      const at = Math.floor(r() * b.length);
      b[at] = 0xff;
      return { raw: b, what: `bytes 0xff at ${at}` };
    }
    case 2:
      return { raw: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), raw]), what: 'bytes BOM' };
    case 3:
      return { raw: Buffer.concat([raw, Buffer.from(pick(r, ['}', ']]', ',', ' x', '\u0000']))]), what: 'bytes trailing garbage' };
    default:
      return { raw: Buffer.alloc(0), what: 'bytes empty' };
  }
}

/** The corpus, lazily: case n depends only on the seed and n. */
export function* fuzzCorpus(seed: number, count: number, nowSec = Math.floor(Date.now() / 1000)): Generator<FuzzCase> {
  const bases = loadBases();
  for (let n = 0; n < count; n++) {
    const r = rng(seed * 1_000_003 + n);
    DEEP.length = 0;
    HUGE.length = 0;
    const base = pick(r, bases);
    let doc: J = clone(base.doc);
    // Half keep the fixture's ids (redeliveries: parsed, then deduplicated), half get fresh ones.
    refresh(doc, n, r, nowSec, r() < 0.5);
    const mutations: string[] = [];
    const k = 1 + Math.floor(between(r, 0, 4));
    for (let i = 0; i < k; i++) {
      const name = pickMutator(r);
      let what: string | null = null;
      try {
        what = MUTATORS[name](doc, r);
      } catch {
        what = null; // an earlier mutation left no room for this one (e.g. `value` became a string)
      }
      if (what?.startsWith('root=')) doc = JSON.parse(what.slice(5));
      if (what) mutations.push(what);
    }
    let text = metaWire(doc);
    // Splice in what a recursive serialiser could not produce (or would be slow to walk).
    // A marker copied many times (duplicate, manyItems) is spliced in full only within a budget.
    let budget = 3_400_000;
    const spend = (s: string, short: string) => {
      if (s.length > budget) return short;
      budget -= s.length;
      return s;
    };
    text = text
      .replace(/"__DEEP_(\d+)__"/g, (_m, i) => spend(DEEP[Number(i)], '[[[1]]]'))
      .replace(/__HUGE_(\d+)__/g, (_m, i) => spend(metaWire(HUGE[Number(i)]).slice(1, -1), 'xxxx'));
    let raw: Buffer = Buffer.from(text, 'utf8');
    if (r() < 0.03) {
      const c = corruptBytes(raw, r);
      raw = c.raw;
      mutations.push(c.what);
    }
    yield { n, base: base.name, mutations, raw, signature: sign(raw) };
  }
}
