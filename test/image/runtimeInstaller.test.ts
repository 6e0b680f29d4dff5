import { GREETING, HELLO_PROGRAMS } from '../../scripts/image/helloWorld';
import { parseSpecs } from '../../scripts/image/packageIndex';
import {
  InstallError,
  installRuntimes,
  type HttpAnswer,
  type HttpCall,
  type InstallOptions,
} from '../../scripts/image/runtimeInstaller';

const INDEX = 'https://mirror.example/piston/index';
const ENGINE = 'http://127.0.0.1:2001';
const download = (name: string) => `https://mirror.example/piston/${name}.pkg.tar.gz`;
const INDEX_TEXT = [
  `python,3.10.0,aaa,${download('python-3.10.0')}`,
  `python,3.12.0,bbb,${download('python-3.12.0')}`,
  `node,18.15.0,ccc,${download('node-18.15.0')}`,
  `gcc,10.2.0,ddd,${download('gcc-10.2.0')}`,
  '',
].join('\n');

interface Call {
  method: string;
  url: string;
  body?: unknown;
}

type Responder = (call: Call, nth: number) => HttpAnswer | Error;

/**
 * Stands in for the network and for Piston's API: the installer only ever talks HTTP, and a
 * real package index and engine cannot run in a unit test. `routes` answers by "METHOD url".
 */
function fakeHttp(routes: Record<string, Responder>): { http: HttpCall; calls: Call[] } {
  const calls: Call[] = [];
  const counts = new Map<string, number>();
  const http: HttpCall = async ({ method, url, body }) => {
    const call = { method, url, body };
    calls.push(call);
    const key = `${method} ${url}`;
    const nth = (counts.get(key) ?? 0) + 1;
    counts.set(key, nth);
    const responder = routes[key];
    if (responder === undefined) return { status: 404, text: '{"message":"no route"}' };
    const answer = responder(call, nth);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { http, calls };
}

const json = (status: number, body: unknown): HttpAnswer => ({
  status,
  text: JSON.stringify(body),
});
const runtimesAnswer = (list: Array<[string, string]>) => () =>
  json(
    200,
    list.map(([language, version]) => ({ language, version, aliases: [] })),
  );
const greets = () =>
  json(200, { run: { stdout: `${GREETING}\n`, stderr: '', code: 0, signal: null } });

function socketHangUp(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

function options(http: HttpCall, overrides: Partial<InstallOptions> = {}) {
  const sleeps: number[] = [];
  const log: string[] = [];
  const opts: InstallOptions = {
    specs: parseSpecs('python=3.x node=*'),
    indexUrl: INDEX,
    engineUrl: ENGINE,
    http,
    retry: {
      attempts: 3,
      delaysMs: [10, 20],
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
    checkRuns: true,
    log: (line) => log.push(line),
    ...overrides,
  };
  return { opts, sleeps, log };
}

async function failure(promise: Promise<unknown>): Promise<InstallError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InstallError);
  return error as InstallError;
}

test('installs the newest version that satisfies each range, then greets in every runtime', async () => {
  const { http, calls } = fakeHttp({
    [`GET ${INDEX}`]: () => ({ status: 200, text: INDEX_TEXT }),
    [`POST ${ENGINE}/api/v2/packages`]: (call) =>
      json(200, { language: (call.body as { language: string }).language }),
    [`GET ${ENGINE}/api/v2/runtimes`]: runtimesAnswer([
      ['python', '3.12.0'],
      ['javascript', '18.15.0'],
    ]),
    [`POST ${ENGINE}/api/v2/execute`]: greets,
  });
  const { opts, log } = options(http);
  const runtimes = await installRuntimes(opts);
  expect(runtimes).toEqual([
    { language: 'python', version: '3.12.0' },
    { language: 'javascript', version: '18.15.0' },
  ]);
  const installs = calls.filter((c) => c.url.endsWith('/packages')).map((c) => c.body);
  expect(installs).toEqual([
    { language: 'python', version: '3.12.0' },
    { language: 'node', version: '18.15.0' },
  ]);
  const runs = calls.filter((c) => c.url.endsWith('/execute')).map((c) => c.body);
  expect(runs).toEqual([
    { language: 'python', version: '3.12.0', files: [{ content: HELLO_PROGRAMS.python }] },
    { language: 'javascript', version: '18.15.0', files: [{ content: HELLO_PROGRAMS.javascript }] },
  ]);
  expect(log.at(-1)).toBe('hello world printed by all 2 runtimes');
});

test('an index that cannot be reached is retried a bounded number of times, then named', async () => {
  const { http, calls } = fakeHttp({ [`GET ${INDEX}`]: socketHangUp });
  const { opts, sleeps, log } = options(http);
  const error = await failure(installRuntimes(opts));
  expect(calls).toHaveLength(3);
  expect(sleeps).toEqual([10, 20]);
  expect(error.message).toContain(`package index ${INDEX}`);
  expect(error.message).toContain('packages python=3.x node=*');
  expect(error.message).toContain('after 3 tries: socket hang up');
  expect(log.filter((line) => line.includes('try'))).toHaveLength(2);
});

test('a transient failure followed by success installs as usual', async () => {
  const { http, calls } = fakeHttp({
    [`GET ${INDEX}`]: (_call, nth) =>
      nth === 1 ? socketHangUp() : { status: 200, text: INDEX_TEXT },
    [`POST ${ENGINE}/api/v2/packages`]: () => json(200, {}),
    [`GET ${ENGINE}/api/v2/runtimes`]: runtimesAnswer([]),
  });
  const { opts, sleeps } = options(http, { specs: parseSpecs('gcc') });
  await installRuntimes(opts);
  expect(calls.filter((c) => c.url === INDEX)).toHaveLength(2);
  expect(sleeps).toEqual([10]);
});

test("an index's 404 is not retried and says which index answered it", async () => {
  const { http, calls } = fakeHttp({
    [`GET ${INDEX}`]: () => ({ status: 404, text: 'Not Found' }),
  });
  const error = await failure(installRuntimes(options(http).opts));
  expect(calls).toHaveLength(1);
  expect(error.message).toContain(`${INDEX} answered HTTP 404`);
  expect(error.message).toContain('python=3.x node=*');
});

test('packages missing from the index, or with no matching version, are all named at once', async () => {
  const { http, calls } = fakeHttp({ [`GET ${INDEX}`]: () => ({ status: 200, text: INDEX_TEXT }) });
  const { opts } = options(http, { specs: parseSpecs('python=2.x rust node=*') });
  const error = await failure(installRuntimes(opts));
  expect(error.message).toContain(
    'package "python=2.x": no version of "python" in the index satisfies "2.x" (it has 3.10.0, 3.12.0)',
  );
  expect(error.message).toContain('package "rust": no package "rust" in the index');
  expect(error.message).toContain(`index: ${INDEX}`);
  expect(calls.filter((c) => c.url.endsWith('/packages'))).toHaveLength(0);
});

test("Piston's own download failing on the network is retried, then reported with package, tarball and index", async () => {
  const message = `request to ${download('python-3.12.0')} failed, reason: socket hang up`;
  const { http, calls } = fakeHttp({
    [`GET ${INDEX}`]: () => ({ status: 200, text: INDEX_TEXT }),
    [`POST ${ENGINE}/api/v2/packages`]: () => json(500, { message }),
  });
  const { opts, sleeps } = options(http, { specs: parseSpecs('python=3.12') });
  const error = await failure(installRuntimes(opts));
  expect(calls.filter((c) => c.url.endsWith('/packages'))).toHaveLength(3);
  expect(sleeps).toEqual([10, 20]);
  expect(error.message).toContain('package "python=3.12"');
  expect(error.message).toContain(`python-3.12.0 from ${download('python-3.12.0')}`);
  expect(error.message).toContain(`index ${INDEX}`);
  expect(error.message).toContain(message);
});

test('a checksum mismatch is not retried', async () => {
  const { http, calls } = fakeHttp({
    [`GET ${INDEX}`]: () => ({ status: 200, text: INDEX_TEXT }),
    [`POST ${ENGINE}/api/v2/packages`]: () =>
      json(500, { message: 'Checksum miss-match want: ccc got: 000' }),
  });
  const { opts, sleeps } = options(http, { specs: parseSpecs('node') });
  const error = await failure(installRuntimes(opts));
  expect(calls.filter((c) => c.url.endsWith('/packages'))).toHaveLength(1);
  expect(sleeps).toEqual([]);
  expect(error.message).toMatch(
    /package "node" \(node-18\.15\.0 from .*\) failed after 1 try: Piston answered HTTP 500: Checksum miss-match/,
  );
});

test('a package already in the base counts as installed', async () => {
  const { http } = fakeHttp({
    [`GET ${INDEX}`]: () => ({ status: 200, text: INDEX_TEXT }),
    [`POST ${ENGINE}/api/v2/packages`]: () => json(500, { message: 'Already installed' }),
    [`GET ${ENGINE}/api/v2/runtimes`]: runtimesAnswer([['javascript', '18.15.0']]),
    [`POST ${ENGINE}/api/v2/execute`]: greets,
  });
  const { opts, log } = options(http, { specs: parseSpecs('node') });
  await installRuntimes(opts);
  expect(log).toContain('node-18.15.0 (node) was already installed');
});

test('a runtime that cannot run fails the build, saying what it printed', async () => {
  const { http } = fakeHttp({
    [`GET ${INDEX}`]: () => ({ status: 200, text: INDEX_TEXT }),
    [`POST ${ENGINE}/api/v2/packages`]: () => json(200, {}),
    [`GET ${ENGINE}/api/v2/runtimes`]: runtimesAnswer([
      ['python', '3.12.0'],
      ['c++', '10.2.0'],
      ['cobol', '3.1.2'],
    ]),
    [`POST ${ENGINE}/api/v2/execute`]: (call) => {
      const { language } = call.body as { language: string };
      if (language === 'python') {
        return json(200, {
          run: {
            stdout: '',
            stderr:
              'python3.12: error while loading shared libraries: libffi.so.8: cannot open shared object file',
            code: 127,
            signal: null,
          },
        });
      }
      return json(200, {
        compile: {
          stdout: '',
          stderr: 'g++: fatal error: cannot execute cc1plus',
          code: 1,
          signal: null,
        },
        run: { stdout: '', stderr: '', code: null, signal: null },
      });
    },
  });
  const error = await failure(
    installRuntimes(options(http, { specs: parseSpecs('python gcc') }).opts),
  );
  expect(error.message).toContain('3 of 3 runtimes did not print hello world');
  expect(error.message).toContain(
    'python-3.12.0: printed "" instead of "hello world" (exit code 127',
  );
  expect(error.message).toContain('libffi.so.8');
  expect(error.message).toContain('c++-10.2.0: compiling failed (code 1');
  expect(error.message).toContain('cobol-3.1.2: no hello-world program is known for "cobol"');
});

test('the check can be skipped where the engine cannot run jobs at build time', async () => {
  const { http, calls } = fakeHttp({
    [`GET ${INDEX}`]: () => ({ status: 200, text: INDEX_TEXT }),
    [`POST ${ENGINE}/api/v2/packages`]: () => json(200, {}),
    [`GET ${ENGINE}/api/v2/runtimes`]: runtimesAnswer([['python', '3.12.0']]),
  });
  const { opts, log } = options(http, { checkRuns: false, specs: parseSpecs('python') });
  await installRuntimes(opts);
  expect(calls.filter((c) => c.url.endsWith('/execute'))).toHaveLength(0);
  expect(log.at(-1)).toContain('hello-world check skipped');
});

test('no packages asked for: nothing is fetched, the runtimes already there are still checked', async () => {
  const { http, calls } = fakeHttp({
    [`GET ${ENGINE}/api/v2/runtimes`]: runtimesAnswer([['bash', '5.2.0']]),
    [`POST ${ENGINE}/api/v2/execute`]: greets,
  });
  await installRuntimes(options(http, { specs: [] }).opts);
  expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
    `GET ${ENGINE}/api/v2/runtimes`,
    `POST ${ENGINE}/api/v2/execute`,
  ]);
});
