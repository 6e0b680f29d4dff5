import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseIndex, parseSpecs, resolveSpec } from '../../scripts/image/packageIndex';
import {
  baseProblem,
  detectGeneration,
  PRE_ISOLATE_BUILD_COMMAND,
  PRE_ISOLATE_COMMIT,
} from '../../scripts/image/pistonBase';
import { describeError, isTransient, TransientError } from '../../scripts/image/retry';

describe('PISTON_PACKAGES', () => {
  test('NAME=RANGE and NAME alone', () => {
    expect(parseSpecs(' python=3.x  node bash=* ')).toEqual([
      { language: 'python', range: '3.x', text: 'python=3.x' },
      { language: 'node', range: '*', text: 'node' },
      { language: 'bash', range: '*', text: 'bash=*' },
    ]);
    expect(parseSpecs('')).toEqual([]);
  });

  test.each(['=3.x', 'python=three'])('%s is refused, naming it', (text) => {
    expect(() => parseSpecs(text)).toThrow(`"${text}"`);
  });

  test('resolves as Piston does: the newest version satisfying the range', () => {
    const index = parseIndex('python,3.9.4,a,u1\npython,3.12.0,b,u2\npython,3.10.0,c,u3\n');
    expect(resolveSpec(index, parseSpecs('python=3.x')[0]!)).toMatchObject({
      kind: 'found',
      entry: { version: '3.12.0', download: 'u2' },
    });
    expect(resolveSpec(index, parseSpecs('python=<3.10')[0]!)).toMatchObject({
      entry: { version: '3.9.4' },
    });
  });
});

describe('the Piston base', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  function tree(files: string[]): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'psa-base-'));
    roots.push(root);
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), '');
    }
    return root;
  }

  test('tells the generations apart by their files', () => {
    expect(detectGeneration(tree(['src/index.js', 'src/nosocket/nosocket.c']))).toBe('pre-isolate');
    expect(detectGeneration(tree(['src/index.js', 'src/docker-entrypoint.sh']))).toBe('isolate');
    expect(detectGeneration(tree(['src/index.js']))).toBe('unknown');
    expect(detectGeneration(tree([]))).toBe('none');
  });

  test('the right generation passes; a wrong or missing one says which command makes the right one', () => {
    expect(baseProblem('pre-isolate', 'pre-isolate', 'piston:v3.1.1', '/piston_api')).toBeNull();
    const isolate = baseProblem('isolate', 'pre-isolate', 'ghcr.io/engineer-man/piston', '/p');
    expect(isolate).toContain('PISTON_IMAGE=ghcr.io/engineer-man/piston is current Piston');
    expect(isolate).toContain(PRE_ISOLATE_BUILD_COMMAND);
    expect(isolate).toContain('--build-arg PISTON_GENERATION=isolate');
    expect(baseProblem('none', 'pre-isolate', 'debian:12', '/p')).toContain(
      'PISTON_IMAGE=debian:12 holds no Piston (no /p/src/index.js)',
    );
    expect(baseProblem('pre-isolate', 'isolate', 'piston:v3.1.1', '/p')).toContain(
      'ghcr.io/engineer-man/piston',
    );
  });

  test("the build command pins Piston's pre-isolate commit and labels the image with it", () => {
    expect(PRE_ISOLATE_BUILD_COMMAND).toContain(`#${PRE_ISOLATE_COMMIT}:api`);
    expect(PRE_ISOLATE_BUILD_COMMAND).toContain(
      `--label org.opencontainers.image.revision=${PRE_ISOLATE_COMMIT}`,
    );
  });
});

describe('transient errors', () => {
  test('network failures, also as a cause or inside a message, are transient; others are not', () => {
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(
      isTransient(new TypeError('fetch failed', { cause: new Error('other side closed') })),
    ).toBe(true);
    expect(isTransient(new Error('request to https://x failed, reason: socket hang up'))).toBe(
      true,
    );
    expect(isTransient(new TransientError('HTTP 503'))).toBe(true);
    expect(isTransient(new Error('Checksum miss-match'))).toBe(false);
    expect(isTransient('socket hang up')).toBe(false);
  });

  test('descriptions carry the causes and codes', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('getaddrinfo failed'), { code: 'EAI_AGAIN' }),
    });
    expect(describeError(error)).toBe('fetch failed: getaddrinfo failed (EAI_AGAIN)');
  });
});
