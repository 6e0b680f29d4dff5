/**
 * Generated malformed requests, each one the adapter must refuse with a 4xx JSON answer:
 * bad JSON, wrong types, huge and deep bodies, odd paths and encodings, broken HTTP, broken
 * multipart uploads. Seeded, so a failure can be replayed.
 */
import { gzipSync, brotliCompressSync } from 'node:zlib';
import type { RawRequest } from './rawClient';

export interface Limits {
  /** BODY_LIMIT_BYTES the adapter runs with. */
  bodyLimitBytes: number;
  /** ENGINE_BODY_LIMIT_BYTES. */
  engineBodyLimitBytes: number;
  /** FILE_MAX_BYTES. */
  fileMaxBytes: number;
}

export interface MalformedCase {
  kind: string;
  request: RawRequest;
}

/** A small, fast, seedable PRNG (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const between = (rng: Rng, low: number, high: number) => low + Math.floor(rng() * (high - low));

/** A whole request: the request line, headers (connection: close added) and body. */
function http(
  method: string,
  target: string,
  headers: Record<string, string | number>,
  body: string | Buffer = '',
  options: { contentLength?: boolean } = {},
): RawRequest {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const all: Record<string, string | number> = {
    host: 'localhost',
    connection: 'close',
    ...(options.contentLength !== false && bytes.length > 0 && { 'content-length': bytes.length }),
    ...headers,
  };
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return { parts: [Buffer.concat([Buffer.from(head, 'latin1'), bytes])] };
}

const JSON_TYPE = { 'content-type': 'application/json' };
const EXECUTE_PATHS = ['/bash/execute', '/code/execute', '/execute', '/executions'];
const VALID = '{"properties":{"code":"true"}}';

function executeWith(rng: Rng, body: string | Buffer, headers: Record<string, string> = JSON_TYPE) {
  return http('POST', pick(rng, EXECUTE_PATHS), headers, body);
}

const generators: Record<string, (rng: Rng, limits: Limits) => RawRequest> = {
  'bad JSON': (rng) => {
    const truncated = VALID.slice(0, between(rng, 1, VALID.length - 1));
    const body = pick(rng, [
      truncated,
      '{',
      '{"properties":',
      '{"properties":{"code":"true",}}',
      "{'properties':{'code':'true'}}",
      'NaN',
      '[1,2',
      '{"properties":{"code":"\\uZZZZ"}}',
      `${VALID}garbage`,
      '"unterminated',
      '{"properties" {"code": "true"}}',
      '\u0000\u0001\u0002',
      Buffer.from(Array.from({ length: 64 }, () => between(rng, 0, 256))).toString('latin1'),
    ]);
    return executeWith(rng, body);
  },

  'wrong types': (rng) => {
    const properties = pick<unknown>(rng, [
      { code: between(rng, 0, 1000) },
      { code: null },
      { code: ['true'] },
      { code: { text: 'true' } },
      { code: true },
      {},
      { pythonCode: 5 },
      { code: 'true', timeoutInSeconds: 'soon' },
      { code: 'true', timeoutInSeconds: { s: 1 } },
      { code: 'true', stdin: 5 },
      { code: 'true', args: ['a', 1] },
      { code: 'true', args: 'a b' },
      { code: 'true', files: 'x' },
      { code: 'true', files: [1] },
      { code: 'true', files: [{ name: '../escape', content: '' }] },
      { code: 'true', files: [{ name: '/abs', content: '' }] },
      { code: 'true', files: [{ name: 'a', content: 5 }] },
      { code: 'true', codeInputType: 'carrier-pigeon' },
      { code: '!!!not base64!!!', codeInputType: 'InlineBase64' },
      { code: 'true', executionType: 'asynchronous' },
      { code: 'true', version: 5 },
    ]);
    const body = pick<unknown>(rng, [
      { properties },
      { properties: 'code' },
      { properties: [properties] },
      between(rng, 0, 100),
      'a string',
      null,
      [],
      true,
    ]);
    return executeWith(rng, JSON.stringify(body));
  },

  'huge body': (rng, limits) => {
    const size = between(rng, limits.bodyLimitBytes + 1, limits.bodyLimitBytes * 4);
    const code = 'x'.repeat(size);
    const body = `{"properties":{"code":"${code}"}}`;
    // Declared up front, or chunked (the limit must hold while it streams in).
    if (rng() < 0.5) return executeWith(rng, body);
    const request = http('POST', pick(rng, EXECUTE_PATHS), {
      ...JSON_TYPE,
      'transfer-encoding': 'chunked',
    });
    const chunks: Buffer[] = [request.parts[0] as Buffer];
    for (let offset = 0; offset < body.length; offset += 16_384) {
      const piece = body.slice(offset, offset + 16_384);
      chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n${piece}\r\n`));
    }
    chunks.push(Buffer.from('0\r\n\r\n'));
    return { parts: [Buffer.concat(chunks)] };
  },

  'too big for the engine': (rng, limits) => {
    const size = between(rng, limits.engineBodyLimitBytes, limits.bodyLimitBytes - 100);
    return executeWith(rng, `{"properties":{"code":"${'y'.repeat(size)}"}}`);
  },

  'deep body': (rng, limits) => {
    const depth = between(rng, 1_000, Math.floor(limits.bodyLimitBytes / 8));
    const deep = pick(rng, [
      () => `${'['.repeat(depth)}${']'.repeat(depth)}`,
      () => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    ])();
    const body = pick(rng, [
      deep,
      `{"properties":${deep}}`,
      `{"properties":{"code":${deep}}}`,
      `{"properties":{"code":"true","files":${deep}}}`,
    ]);
    return executeWith(rng, body);
  },

  'odd path': (rng) => {
    const target = pick(rng, [
      '/%',
      '/%zz/execute',
      '/%E0%A4%A/execute',
      '/..%2f..%2fetc%2fpasswd/execute',
      '/../../etc/passwd',
      '//bash//execute//',
      '/bash/execute/extra',
      '/ruby/execute',
      '/c%2B%2B/execute',
      `/${'a'.repeat(between(rng, 100, 4_000))}/execute`,
      '/bash/execute/../../../etc/passwd?x=%ZZ',
      '/nowhere',
      '/files/content/..%2f..%2fsecret',
      '/executions/../../x',
      '/api/v2/nothing',
      '/api/v2/packages',
      '/API/V2/PACKAGES/python/3',
      `/${'%41'.repeat(between(rng, 10, 500))}`,
    ]);
    const method = target.startsWith('/files') || target === '/nowhere' ? 'GET' : 'POST';
    return http(method, target, JSON_TYPE, VALID);
  },

  'wrong method': (rng) =>
    http(pick(rng, ['PUT', 'DELETE', 'PATCH']), pick(rng, EXECUTE_PATHS), JSON_TYPE, VALID),

  'odd encoding': (rng, limits) =>
    pick(rng, [
      () =>
        executeWith(rng, Buffer.from('not gzip at all'), {
          ...JSON_TYPE,
          'content-encoding': 'gzip',
        }),
      () =>
        executeWith(rng, gzipSync('{"properties":'), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
      // Small on the wire, far over the limit once inflated.
      () =>
        executeWith(
          rng,
          gzipSync(`{"properties":{"code":"${' '.repeat(limits.bodyLimitBytes * 8)}"}}`),
          {
            ...JSON_TYPE,
            'content-encoding': 'gzip',
          },
        ),
      () => executeWith(rng, brotliCompressSync('[1,'), { ...JSON_TYPE, 'content-encoding': 'br' }),
      () => executeWith(rng, VALID, { ...JSON_TYPE, 'content-encoding': 'compress' }),
      () => executeWith(rng, VALID, { ...JSON_TYPE, 'content-encoding': 'zstd' }),
      () => executeWith(rng, VALID, { 'content-type': 'application/json; charset=utf-16' }),
      () => executeWith(rng, VALID, { 'content-type': 'application/json; charset=latin1' }),
      () => executeWith(rng, VALID, { 'content-type': 'text/plain' }),
      () => executeWith(rng, VALID, { 'content-type': 'application/x-www-form-urlencoded' }),
      () => executeWith(rng, VALID, {}),
      () => executeWith(rng, VALID, { 'content-type': 'multipart/form-data; boundary=x' }),
    ])(),

  'broken HTTP': (rng) =>
    pick(rng, [
      () => ({ parts: ['BREW /execute HTTP/1.1\r\nhost: x\r\n\r\n'] }),
      () => ({ parts: ['POST /execute HTTP/9.9\r\nhost: x\r\n\r\n'] }),
      () => ({ parts: ['GET\r\n\r\n'] }),
      () => ({ parts: ['POST /execute HTTP/1.1\r\nhost x\r\n\r\n'] }),
      () => ({
        parts: [
          'POST /execute HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\nabc\r\n',
        ],
      }),
      () => ({
        parts: [
          `POST /execute HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
        ],
      }),
      () => ({ parts: ['POST /execute HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n'] }),
      () => ({ parts: ['POST /execute HTTP/1.1\r\nhost: x\r\ncontent-length: 1e3\r\n\r\n'] }),
      () => ({ parts: [`GET / HTTP/1.1\r\nhost: x\r\nx-huge: ${'h'.repeat(20_000)}\r\n\r\n`] }),
      () => ({ parts: ['GET / HTTP/1.1\r\nhost: x\r\nx-bad: a\u0000b\r\n\r\n'] }),
    ])(),

  'broken upload': (rng, limits) => {
    const boundary = `b${between(rng, 0, 1e9)}`;
    const part = (name: string, filename: string, content: string) =>
      `--${boundary}\r\ncontent-disposition: form-data; name="${name}"; filename="${filename}"\r\ncontent-type: text/plain\r\n\r\n${content}\r\n`;
    const type = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    const path = pick(rng, ['/files/upload', '/files']);
    return pick(rng, [
      () => http('POST', path, { 'content-type': 'multipart/form-data' }, 'x'),
      () => http('POST', path, type, `--${boundary}\r\ngarbage without headers`),
      () => http('POST', path, type, `${part('other', 'a.txt', 'x')}--${boundary}--\r\n`),
      () => http('POST', path, type, `${part('file', '../../escape.txt', 'x')}--${boundary}--\r\n`),
      () =>
        http(
          'POST',
          path,
          type,
          `${part('file', 'big.txt', 'z'.repeat(limits.fileMaxBytes + 1))}--${boundary}--\r\n`,
        ),
      () => http('POST', path, JSON_TYPE, VALID),
    ])();
  },
};

/** How often each kind comes up, relative to the others. */
const WEIGHTS: Record<string, number> = {
  'bad JSON': 20,
  'wrong types': 25,
  'huge body': 3,
  'too big for the engine': 3,
  'deep body': 4,
  'odd path': 15,
  'wrong method': 5,
  'odd encoding': 12,
  'broken HTTP': 8,
  'broken upload': 5,
};

export function generateMalformed(count: number, seed: number, limits: Limits): MalformedCase[] {
  const rng = random(seed);
  const kinds = Object.keys(generators);
  const total = kinds.reduce((sum, kind) => sum + (WEIGHTS[kind] ?? 1), 0);
  const cases: MalformedCase[] = [];
  for (let i = 0; i < count; i += 1) {
    let roll = rng() * total;
    let kind = kinds[kinds.length - 1] as string;
    for (const candidate of kinds) {
      roll -= WEIGHTS[candidate] ?? 1;
      if (roll < 0) {
        kind = candidate;
        break;
      }
    }
    cases.push({
      kind,
      request: (generators[kind] as (rng: Rng, limits: Limits) => RawRequest)(rng, limits),
    });
  }
  return cases;
}

/** Clients too slow to finish their headers or body before the server's timeouts. */
export function slowClients(count: number): MalformedCase[] {
  return Array.from({ length: count }, (_, i) => {
    if (i % 4 === 3) {
      // A file upload that trickles in and never finishes: REQUEST_TIMEOUT_MS.
      const boundary = 'slowupload';
      const head =
        `POST /files/upload HTTP/1.1\r\nhost: x\r\nconnection: close\r\n` +
        `content-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: 100000\r\n\r\n` +
        `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="slow.txt"\r\n\r\n`;
      return {
        kind: 'slow upload',
        request: { parts: [head, ...Array.from({ length: 200 }, () => 'data ')], gapMs: 100 },
      };
    }
    if (i % 3 === 0) {
      // Headers one byte at a time: HEADERS_TIMEOUT_MS.
      const head = 'POST /execute HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n';
      return { kind: 'slow headers', request: { parts: head.split(''), gapMs: 100 } };
    }
    if (i % 3 === 1) {
      // The body a few bytes at a time, never all of it: REQUEST_TIMEOUT_MS.
      const head = `POST /execute HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 10000\r\n\r\n`;
      return {
        kind: 'slow body',
        request: { parts: [head, ...Array.from({ length: 200 }, () => '     ')], gapMs: 100 },
      };
    }
    // Headers, then nothing at all.
    return {
      kind: 'stalled body',
      request: {
        parts: [
          'POST /bash/execute HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"prop',
        ],
      },
    };
  });
}
