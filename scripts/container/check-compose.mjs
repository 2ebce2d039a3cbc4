// Checks docker-compose.yml without a Docker engine (there is none on the dev machines or in CI):
//  1. it parses as YAML (js-yaml, which `npm ci` brings in with the dev tools);
//  2. it says what the README promises (Deploy, docker compose): mongo:8 as replica set rs0 initiated by its healthcheck, a named
//     volume, the app waiting for mongo to be healthy, env from .env, MONGODB_URI with ?replicaSet=rs0,
//     port 3000, an app healthcheck, enough stop grace for the app's 9 s graceful stop;
//  3. when a Compose CLI is on this machine (`docker compose`, `docker-compose` or $COMPOSE_BIN), its own
//     validation (`config -q`) against the Compose specification too.
//   node scripts/container/check-compose.mjs [path/to/docker-compose.yml]
// Exit 0 when all pass; otherwise one line per problem and exit 1.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = path.resolve(process.argv[2] ?? path.join(root, 'docker-compose.yml'));
const problems = [];
const notes = [];

let yaml;
try {
  yaml = createRequire(path.join(root, 'package.json'))('js-yaml');
} catch {
  process.stdout.write('check-compose: no YAML parser (js-yaml comes with `npm ci`)\n');
  process.exit(1);
}

let doc;
try {
  doc = yaml.load(readFileSync(file, 'utf8'));
} catch (err) {
  process.stdout.write(`check-compose: ${path.basename(file)} is not valid YAML: ${err.message.split('\n')[0]}\n`);
  process.exit(1);
}

const expect = (ok, what) => {
  if (!ok) problems.push(what);
};
const asText = (v) => (Array.isArray(v) ? v.join(' ') : String(v ?? ''));
/** environment: may be a map or a list of KEY=VALUE. */
const envOf = (svc) =>
  Array.isArray(svc?.environment)
    ? Object.fromEntries(svc.environment.map((kv) => [kv.split('=')[0], kv.split('=').slice(1).join('=')]))
    : (svc?.environment ?? {});
const seconds = (d) => {
  const m = /^(\d+)(ms|s|m)?$/.exec(String(d ?? ''));
  return m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : m[2] === 'm' ? 1 / 60 : 1) : NaN;
};

const mongo = doc?.services?.mongo;
const app = doc?.services?.app;
expect(mongo && app, 'services "mongo" and "app" exist');

expect(/^mongo:8(\.|$)/.test(String(mongo?.image)), 'mongo uses image mongo:8');
expect(/--replSet\s+rs0\b/.test(asText(mongo?.command)), 'mongo runs with --replSet rs0');
expect(/rs\.initiate\(/.test(asText(mongo?.healthcheck?.test)), "mongo's healthcheck initiates the replica set");
const volumes = Object.keys(doc?.volumes ?? {});
const mongoData = (mongo?.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
expect(
  mongoData.some((v) => volumes.includes(v.split(':')[0]) && v.split(':')[1] === '/data/db'),
  'mongo keeps /data/db on a named volume',
);

const dependsOn = app?.depends_on;
expect(dependsOn?.mongo?.condition === 'service_healthy', 'app depends_on mongo with condition service_healthy');
const envFiles = [app?.env_file ?? []].flat().map((e) => (typeof e === 'string' ? e : e.path));
expect(envFiles.includes('.env'), 'app takes its environment from .env (env_file)');
const env = envOf(app);
expect(env.NODE_ENV === 'production', 'app sets NODE_ENV=production');
expect(/^mongodb:\/\/mongo(:27017)?\/[^?]*\?(.*&)?replicaSet=rs0(&|$)/.test(String(env.MONGODB_URI)), 'app MONGODB_URI points at mongo with ?replicaSet=rs0');
expect(
  (app?.ports ?? []).some((p) => /(^|:)3000$/.test(String(typeof p === 'object' ? p.target : p))),
  'app publishes port 3000',
);
expect(/\/healthz/.test(asText(app?.healthcheck?.test)), 'app has a healthcheck on /healthz');
expect(app?.build !== undefined || app?.image !== undefined, 'app has a build or an image');
if (app?.stop_grace_period !== undefined) expect(seconds(app.stop_grace_period) >= 10, 'app stop_grace_period is at least 10 s');

// The real Compose CLI, where there is one: it validates against the Compose specification.
const candidates = [process.env.COMPOSE_BIN ? [process.env.COMPOSE_BIN] : null, ['docker', 'compose'], ['docker-compose']].filter(Boolean);
let validated = false;
for (const [bin, ...pre] of candidates) {
  const probe = spawnSync(bin, [...pre, 'version'], { encoding: 'utf8' });
  if (probe.status !== 0) continue;
  // env_file: .env must exist for `config`; validate a copy beside a .env made from .env.example.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-check-'));
  try {
    copyFileSync(file, path.join(dir, 'docker-compose.yml'));
    copyFileSync(path.join(root, '.env.example'), path.join(dir, '.env'));
    const r = spawnSync(bin, [...pre, '-f', path.join(dir, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', cwd: dir });
    expect(r.status === 0, `${[bin, ...pre].join(' ')} config rejects it: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
    notes.push(`validated by ${[bin, ...pre].join(' ')} (${probe.stdout.trim().split('\n')[0]})`);
    validated = true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  break;
}
if (!validated) notes.push('no Compose CLI here: YAML and structure checked only');

for (const p of problems) process.stdout.write(`check-compose: FAIL ${p}\n`);
for (const n of notes) process.stdout.write(`check-compose: ${n}\n`);
if (problems.length === 0) process.stdout.write('check-compose: ok\n');
process.exit(problems.length ? 1 : 0);
