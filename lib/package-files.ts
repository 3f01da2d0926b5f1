/**
 * Where the package's own files are, in a checkout and once installed. A checkout runs the
 * TypeScript sources (through tsx); the installed package runs the JavaScript that `npm run build`
 * compiled into dist/, beside the handlers it compiled there. Code that names a file of the package
 * (a handler entry for bundling or for the simulator, the bundled scenarios) asks here, so both ways
 * find the same files.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** `lambdas/` beside this `lib/`: the sources in a checkout, dist/lambdas when installed. */
export const LAMBDAS_DIR = path.resolve(HERE, '..', 'lambdas');

/** The folder of the package's package.json (the checkout's root, or node_modules/kms-deletion-guard). */
export const PACKAGE_ROOT = findPackageRoot(HERE);

function findPackageRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(from, '..');
    dir = parent;
  }
  return dir;
}

/** `<dir>/<name>.ts` where the sources are, else the compiled `<dir>/<name>.js`. */
export function moduleFile(dir: string, name: string): string {
  const source = path.join(dir, `${name}.ts`);
  return existsSync(source) ? source : path.join(dir, `${name}.js`);
}
