#!/usr/bin/env node
// The layer rules (.dependency-cruiser.cjs) and, from the same cruise, cycles between folders:
// dependency-cruiser's rules judge files, its folder metrics show which folders reach each other
// both ways (https://github.com/sverweij/dependency-cruiser/blob/main/doc/cli.md#--metrics).
// Usage: node scripts/lint/layers.mjs [root]   (root: the tree to judge, default the repository)
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { createRequire } from 'node:module';
import path from 'node:path';

const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const root = path.resolve(process.argv[2] ?? here);
const config = createRequire(import.meta.url)(path.join(here, '.dependency-cruiser.cjs'));
process.chdir(root);
const result = await cruise(
  ['src'],
  {
    ...config.options,
    tsConfig: { fileName: path.join(here, 'tsconfig.json') },
    validate: true,
    ruleSet: { forbidden: config.forbidden },
    metrics: true,
    outputType: 'json',
  },
  undefined,
  {
    tsConfig: extractTSConfig(path.join(here, 'tsconfig.json')),
  },
);
const out = JSON.parse(result.output);
const problems = out.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.cycle?.length ? v.cycle.map((c) => c.name ?? c).join(' → ') : v.to}`);
for (const folder of out.folders ?? []) {
  if (folder.name.split('/').length !== 2) continue; // src/<folder>
  for (const d of folder.dependencies ?? []) if (d.circular) problems.push(`no-folder-cycles: ${folder.name} ⇄ ${d.name}`);
}
if (problems.length) {
  process.stderr.write(`${problems.join('\n')}\n${problems.length} layer violation(s)\n`);
  process.exit(1);
}
process.stdout.write(`layers: ${out.summary.totalCruised} modules, no violation, no folder cycle\n`);
