import { findRuntime } from '../../adapter/piston/runtimeCatalog';
import type { PistonRuntime } from '../../adapter/piston/types';

const runtimes: PistonRuntime[] = [
  { language: 'python', version: '3.10.0', aliases: ['py'] },
  { language: 'python', version: '3.12.1', aliases: ['py'] },
  { language: 'javascript', version: '20.11.1', aliases: ['js', 'node-js'], runtime: 'node' },
  { language: 'typescript', version: '5.0.3', aliases: ['ts'], runtime: 'deno' },
  { language: 'typescript', version: '5.6.2', aliases: ['ts'], runtime: 'node' },
];

describe('findRuntime', () => {
  test.each([
    ['python', undefined, '3.12.1'],
    ['py', '*', '3.12.1'],
    ['py', '3.10.0', '3.10.0'],
    ['py', '3.10.x', '3.10.0'],
    ['py', '^3.10', '3.12.1'],
    ['ts', undefined, '5.6.2'],
    ['JS', undefined, '20.11.1'],
  ])('%s @ %s resolves to %s', (language, version, expected) => {
    const lookup = findRuntime(runtimes, language, version);
    expect(lookup.kind).toBe('found');
    if (lookup.kind === 'found') expect(lookup.runtime.version).toBe(expected);
  });

  test('unknown language lists every language once, sorted', () => {
    expect(findRuntime(runtimes, 'cobol', undefined)).toEqual({
      kind: 'unknown_language',
      available: ['javascript', 'python', 'typescript'],
    });
  });

  test('unknown or unparsable version lists installed versions of that language', () => {
    for (const version of ['2.7', 'banana']) {
      expect(findRuntime(runtimes, 'py', version)).toEqual({
        kind: 'unknown_version',
        language: 'python',
        available: ['3.10.0', '3.12.1'],
      });
    }
  });
});
