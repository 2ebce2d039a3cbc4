import { loadConfigOrExit } from '../config';
import { INTENTS } from '../chat/intents';
import { loadKeywordPacks } from '../chat/keywordPacks';
import { isBuiltInLocale, LOCALE_CODE } from '../i18n/locales';
import { checkLanguagesInUse, localeTemplate, readLocaleOverrides } from '../i18n/localeOverrides';
import { createLogger } from '../lib/logger';
import { migrateIds } from '../maintenance/migrateIds';
import { rotateKeys } from '../maintenance/rotateKeys';
import { sweepRetention } from '../maintenance/sweepRetention';
import { renderAuditReportPdf } from '../documents/reportPdf';
import { auditReport, auditReportCsv, REPORT_MAX_DAYS } from '../rights/auditReport';
import { openRuntime, type Runtime } from '../runtime';
import { staffCommands } from './staffCommands';

/**
 * Operator commands: `npm run cli -- <command>`. They use the same configuration as the app
 * (MONGODB_URI, or the embedded server of a running `npm start`).
 */
const HELP = `usage: npm run cli -- <command>
  rotate-keys     re-encrypt every personal value under the active key (first of PII_ENCRYPTION_KEYS); resumable
  migrate-ids     rewrite a database of the old id scheme (Meta ids as document ids) into keyed ids; re-chains the ledger
                  and the audit log (refused when a chain does not verify, unless --force); stop the app first
  verify-ledger   check the hash chain of the rights ledger; names the first broken entry; exit 1 if broken
  keywords        [--locale xx]: the keyword table in effect per language, LOCALES_OVERRIDE_DIR applied (no database needed)
  locale-template <xx>: a new language's override file to translate (every keyword list and reply text, in English)
  sweep           apply the retention rules once now
  report          [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format json|csv|pdf] [--verify]: the audit report of rights
                  requests received in [from, to), UTC days (default: the last 30 days; at most a year); --verify checks both chains now;
                  pdf is written to stdout (> report.pdf)
  staff-add       --email E --role viewer|agent|admin [--name N]; password from the prompt or stdin
  staff-list      list staff accounts
  staff-set       --email E [--role R] [--disable|--enable] [--unlock] [--password]
`;

const commands: Record<string, (rt: Runtime, args?: string[]) => Promise<number>> = {
  async 'rotate-keys'(rt) {
    const r = await rotateKeys(rt.deps, { onProgress: (n) => process.stderr.write(`re-encrypted ${n}\r`) });
    console.log(`active key ${r.activeKeyId}: ${r.reEncrypted} values re-encrypted, ${r.remaining} under other keys remain`);
    if (r.remaining === 0) console.log('old keys may now be removed from PII_ENCRYPTION_KEYS');
    return r.remaining === 0 ? 0 : 1;
  },
  async 'migrate-ids'(rt, args: string[] = []) {
    const r = await migrateIds(rt.deps, (line) => console.log(line), { force: args.includes('--force') });
    console.log(JSON.stringify(r));
    return 0;
  },
  async 'verify-ledger'(rt) {
    const r = await rt.deps.stores.ledger.verify();
    if (r.ok) console.log(`ledger intact: ${r.entries} entries verified`);
    else
      console.log(
        `ledger BROKEN at entry #${r.firstBroken!.seq} (request ${r.firstBroken!.requestId}, event ${r.firstBroken!.event}): ${r.firstBroken!.reason}`,
      );
    return r.ok ? 0 : 1;
  },
  async sweep(rt) {
    console.log(JSON.stringify(await sweepRetention(rt.deps)));
    return 0;
  },
  async report(rt, args: string[] = []) {
    const opt = (name: string) => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? args[i + 1] : undefined;
    };
    const now = rt.deps.clock.now();
    const day = (v: string | undefined, fallback: Date) => (v === undefined ? fallback : /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`) : null);
    const from = day(opt('from'), new Date(now.getTime() - 30 * 86_400_000));
    const to = day(opt('to'), now);
    const format = opt('format') ?? 'json';
    const bad = !from || !to || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to;
    if (bad || to.getTime() - from.getTime() > REPORT_MAX_DAYS * 86_400_000 || !['json', 'csv', 'pdf'].includes(format)) {
      process.stderr.write(
        `report: --from and --to as YYYY-MM-DD (UTC days), from before to, at most ${REPORT_MAX_DAYS} days apart; --format json, csv or pdf\n`,
      );
      return 2;
    }
    const rep = await auditReport(rt.deps.rights, { from, to, verifyChains: args.includes('--verify') });
    if (format === 'pdf') {
      const pdf = await renderAuditReportPdf(rep, rt.deps.config.business.name);
      await new Promise<void>((resolve) => process.stdout.write(pdf, () => resolve()));
    } else process.stdout.write(format === 'csv' ? auditReportCsv(rep) : `${JSON.stringify(rep, null, 2)}\n`);
    // A chain found broken is what an auditor must see first: exit 1.
    return [rep.chains.ledger, rep.chains.audit].some((v) => v && !v.ok) ? 1 : 0;
  },
};

export async function runCli(argv: string[], extra: Record<string, (rt: Runtime, args: string[]) => Promise<number>> = {}): Promise<number> {
  const [name, ...args] = argv;
  if (name === 'keywords') return printKeywords(args);
  if (name === 'locale-template') return printLocaleTemplate(args);
  const all = { ...commands, ...staffCommands, ...extra } as Record<string, (rt: Runtime, args: string[]) => Promise<number>>;
  const cmd = name ? all[name] : undefined;
  if (!cmd) {
    process.stderr.write(HELP);
    return 2;
  }
  const config = loadConfigOrExit();
  const rt = await openRuntime(config, createLogger('warn'), undefined, { reuseRunning: true });
  try {
    return await cmd(rt, args);
  } finally {
    await rt.close();
  }
}

/**
 * The keyword table in effect: ours, with the deployer's overrides (LOCALES_OVERRIDE_DIR) applied
 * and checked as at start-up. Needs no database.
 */
function printKeywords(args: string[]): number {
  const config = loadConfigOrExit();
  const i = args.indexOf('--locale');
  const only = i >= 0 ? args[i + 1] : undefined;
  let packs;
  try {
    const overrides = readLocaleOverrides(config.localesOverrideDir);
    packs = loadKeywordPacks(undefined, overrides);
    checkLanguagesInUse(overrides, config);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  if (i >= 0 && (only === undefined || !packs.locales.includes(only))) {
    process.stderr.write(`keywords: --locale one of ${packs.locales.join(', ')}\n`);
    return 2;
  }
  for (const locale of packs.locales) {
    if (only && locale !== only) continue;
    process.stdout.write(`${locale}\n`);
    for (const list of [...INTENTS, 'fillers', 'ambiguous'] as const) process.stdout.write(`  ${list}: ${packs.lists[locale][list].join(', ')}\n`);
  }
  return 0;
}

/** `locale-template it > overrides/it.json`: the starting point of a new language, to translate. */
function printLocaleTemplate(args: string[]): number {
  const [lng] = args;
  if (lng && isBuiltInLocale(lng)) {
    process.stderr.write(`locale-template: ${lng} is one of ours; to change it, write only what differs (README, Your own words)\n`);
    return 2;
  }
  if (!lng || !LOCALE_CODE.test(lng)) {
    process.stderr.write('locale-template: a language code of two or three lower-case letters (it, nl, pl)\n');
    return 2;
  }
  process.stdout.write(`${JSON.stringify(localeTemplate(lng), null, 2)}\n`);
  return 0;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
