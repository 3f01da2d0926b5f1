#!/usr/bin/env node
// The `kms-deletion-guard` command. Installed from the package, it runs the compiled JavaScript in
// dist/. In a checkout of the repository, where bin/cli.ts sits beside this file, it runs the
// TypeScript sources through tsx (a development dependency), so a stale build is never what runs.
import { existsSync } from 'node:fs';

const source = new URL('./cli.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import(new URL('../dist/bin/cli.js', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
