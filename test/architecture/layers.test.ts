import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The layers import downward only: http/ on top (the only one that knows express), the
 * domain folders below it, the engine client at the bottom. A test, so a new import that
 * climbs fails here rather than in a reviewer's head.
 */
const ADAPTER = path.resolve(__dirname, '../../adapter');
const DOMAIN = ['azure', 'engine', 'errors', 'execution', 'files', 'piston', 'sessions', 'timing'];
const ABOVE_DOMAIN = ['http', 'supervisor', 'main', 'logging'];

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The adapter folder each relative import of a file lands in ('main' for adapter/main.ts). */
function importedFolders(file: string): { specifier: string; folder: string }[] {
  const text = readFileSync(file, 'utf8');
  const found: { specifier: string; folder: string }[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
    const specifier = match[1] as string;
    if (!specifier.startsWith('.')) {
      found.push({ specifier, folder: specifier });
      continue;
    }
    const target = path.relative(ADAPTER, path.resolve(path.dirname(file), specifier));
    found.push({ specifier, folder: target.split(path.sep)[0] as string });
  }
  return found;
}

describe('layers', () => {
  test.each(DOMAIN)('adapter/%s imports nothing from http/, supervisor/ or express', (folder) => {
    const climbing = sourceFiles(path.join(ADAPTER, folder)).flatMap((file) =>
      importedFolders(file)
        .filter(({ folder: target }) => ABOVE_DOMAIN.includes(target) || target === 'express')
        .map(({ specifier }) => `${path.relative(ADAPTER, file)} imports ${specifier}`),
    );
    expect(climbing).toEqual([]);
  });

  test('the engine client (piston/) imports only its own folder, the engine state and timing', () => {
    const outside = sourceFiles(path.join(ADAPTER, 'piston')).flatMap((file) =>
      importedFolders(file)
        .filter(({ specifier }) => specifier.startsWith('.'))
        .filter(({ folder }) => !['piston', 'engine', 'timing'].includes(folder))
        .map(({ specifier }) => `${path.relative(ADAPTER, file)} imports ${specifier}`),
    );
    expect(outside).toEqual([]);
  });
});
