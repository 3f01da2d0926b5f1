import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

/**
 * What the published code imports at run time must be what package.json promises an installer:
 * a runtime import of a development-only package works in this repository and fails (or works by
 * luck, through another package's dependency) once installed.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PUBLISHED = ['bin/cli.ts', 'lib', 'lambdas'];

function sourceFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (entry.endsWith('.ts')) return [full];
  return readdirSync(full, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(full, file));
}

/** The package a bare specifier names: `@scope/name/deep` -> `@scope/name`, `name/deep` -> `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function runtimeImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(
    /^\s*(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gms,
  )) {
    if (!match[1] && match[2]) found.push(match[2]);
  }
  for (const match of source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) if (match[1]) found.push(match[1]);
  return found.filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'));
}

describe('package.json dependencies', () => {
  it('declare every package the published code imports at run time', () => {
    // Prepare
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    const promised = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
    ]);

    // Act
    const imported = new Set(
      PUBLISHED.flatMap(sourceFiles)
        .flatMap((file) => runtimeImports(readFileSync(file, 'utf8')))
        .map(packageOf)
        .filter((name) => !builtinModules.includes(name)),
    );

    // Assess
    expect([...imported].filter((name) => !promised.has(name)).sort()).toEqual([]);
    expect(imported.has('zod')).toBe(true);
  });
});
