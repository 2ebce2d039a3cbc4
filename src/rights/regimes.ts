/**
 * Legal deadlines for rights requests (GDPR Art. 12(3) https://gdpr-info.eu/art-12-gdpr/, CCPA Cal. Civ. Code §1798.130
 * https://leginfo.legislature.ca.gov/faces/codes_displaySection.xhtml?lawCode=CIV&sectionNum=1798.130,
 * FCC 24-24 https://docs.fcc.gov/public/attachments/FCC-24-24A1.pdf):
 * - GDPR Art. 12(3): access and erasure answered within one month of receipt.
 * - CCPA §1798.130(a)(2): 45 calendar days.
 * - FCC 24-24 (47 CFR 64.1200(a)(10)): opt-out honoured within 10 business days.
 * Where several regimes may apply, the earliest date is the one we promise.
 */
export type RequestType = 'opt_out' | 'opt_in' | 'access' | 'erasure';

export function addMonths(d: Date, n: number): Date {
  const r = new Date(d);
  const day = r.getUTCDate();
  r.setUTCDate(1);
  r.setUTCMonth(r.getUTCMonth() + n);
  const last = new Date(Date.UTC(r.getUTCFullYear(), r.getUTCMonth() + 1, 0)).getUTCDate();
  r.setUTCDate(Math.min(day, last));
  return r;
}

export function addBusinessDays(d: Date, n: number): Date {
  const r = new Date(d);
  let left = n;
  while (left > 0) {
    r.setUTCDate(r.getUTCDate() + 1);
    const wd = r.getUTCDay();
    if (wd !== 0 && wd !== 6) left -= 1;
  }
  return r;
}

export function dueDate(type: RequestType, receivedAt: Date): { dueAt: Date; regime: string } {
  if (type === 'opt_out') return { dueAt: addBusinessDays(receivedAt, 10), regime: 'FCC 47 CFR 64.1200(a)(10): 10 business days' };
  if (type === 'opt_in') return { dueAt: receivedAt, regime: 'none' };
  const gdpr = addMonths(receivedAt, 1);
  const ccpa = new Date(receivedAt.getTime() + 45 * 86_400_000);
  return gdpr <= ccpa ? { dueAt: gdpr, regime: 'GDPR Art. 12(3): one month (CCPA: 45 days)' } : { dueAt: ccpa, regime: 'CCPA: 45 days (GDPR: one month)' };
}
