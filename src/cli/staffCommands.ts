import { createInterface } from 'node:readline';
import type { Runtime } from '../runtime';
import { createStaff, updateStaff, view } from '../staff/accounts';

/** Reads the password from the terminal, or from the first line of stdin when piped (`echo … |`). */
async function readPassword(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdin.isTTY ? process.stderr : undefined, terminal: Boolean(process.stdin.isTTY) });
  if (process.stdin.isTTY) process.stderr.write(prompt);
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  return line.trim();
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Staff accounts from the command line (the first admin can only be created here). */
export const staffCommands: Record<string, (rt: Runtime, args: string[]) => Promise<number>> = {
  async 'staff-add'(rt, args) {
    const email = flag(args, 'email');
    const role = flag(args, 'role') ?? 'viewer';
    if (!email) {
      console.error('usage: npm run cli -- staff-add --email EMAIL --role viewer|agent|admin [--name NAME]   (password from the prompt or stdin)');
      return 2;
    }
    const r = await createStaff(rt.deps, null, { email, role, name: flag(args, 'name') ?? '', password: await readPassword('password (12+ characters): ') });
    if (r.kind === 'created') console.log(`created ${r.staff.email} (${r.staff.role})`);
    else console.error(r.kind === 'exists' ? 'an account with this email exists' : r.problem);
    return r.kind === 'created' ? 0 : 1;
  },
  async 'staff-list'(rt) {
    for (const s of (await rt.deps.stores.staff.all()).map(view)) {
      console.log(`${s.email}\t${s.role}${s.disabled ? '\tdisabled' : ''}${s.lockedUntil && s.lockedUntil > new Date() ? '\tlocked' : ''}`);
    }
    return 0;
  },
  async 'staff-set'(rt, args) {
    const email = flag(args, 'email');
    if (!email) {
      console.error('usage: npm run cli -- staff-set --email EMAIL [--role ROLE] [--disable | --enable] [--unlock] [--password]');
      return 2;
    }
    const change = {
      role: flag(args, 'role'),
      disabled: args.includes('--disable') ? true : args.includes('--enable') ? false : undefined,
      unlock: args.includes('--unlock') || undefined,
      password: args.includes('--password') ? await readPassword('new password (12+ characters): ') : undefined,
    };
    const r = await updateStaff(rt.deps, null, email, change);
    console.log(r);
    return r === 'updated' ? 0 : 1;
  },
};
