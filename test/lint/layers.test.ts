import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../..');
const layers = (root?: string) =>
  run(process.execPath, [path.join(repo, 'scripts/lint/layers.mjs'), ...(root ? [root] : [])], { cwd: repo }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

/** A small tree that breaks each layer rule once, judged by the same command `npm run lint` runs. */
function brokenTree(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'layers-'));
  symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
  const file = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };
  // rights → outbox → rights: a folder cycle, and a use case that queues its own replies.
  file('src/rights/optOut.ts', "import { enqueue } from '../outbox/enqueue';\nexport const optOut = () => enqueue();\n");
  file('src/outbox/enqueue.ts', "import { kinds } from '../rights/kinds';\nexport const enqueue = () => kinds.length;\n");
  file('src/rights/kinds.ts', "export const kinds = ['opt_out'];\n");
  // A use case that knows HTTP, and one that opens a collection directly.
  file('src/chat/reply.ts', "import express from 'express';\nimport { models } from '../store/models';\nexport const r = [express, models];\n");
  file('src/store/models.ts', 'export const models = {};\n');
  return root;
}

describe('npm run lint: the layer rules', () => {
  it('passes on the repository as it is', async () => {
    const r = await layers();
    expect(r.out).toMatch(/no violation, no folder cycle/);
    expect(r.code).toBe(0);
  });

  it('fails on a tree with a folder cycle, a use case that queues or knows HTTP, and a raw model outside the stores', async () => {
    const root = brokenTree();
    try {
      const r = await layers(root);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/no-folder-cycles: src\/rights ⇄ src\/outbox/);
      expect(r.out).toMatch(/use-cases-know-no-frameworks: src\/rights\/optOut\.ts → src\/outbox\/enqueue\.ts/);
      expect(r.out).toMatch(/use-cases-know-no-frameworks: src\/chat\/reply\.ts → \S*node_modules\/express/);
      expect(r.out).toMatch(/models-belong-to-stores: src\/chat\/reply\.ts → src\/store\/models\.ts/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
