/**
 * Requests the fixtures do not cover, answered as Piston v3.1.1's source says (api/v2.js's
 * get_job and Job, body-parser, Express routing), on the default dialect: file encodings and
 * names, stdin and args quirks, wrong types, the body limit at its edge, routes, and what
 * happens to processes a run leaves behind.
 */
import { spawnSync } from 'node:child_process';
import { LocalEngine, PROCESS_DEADLINE_MS, type EngineReply } from '../support/localEngine';
import { installedVersions } from '../support/localEngineConformance';
import { isAlive, waitUntilGone } from '../support/adapterProcess';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const versions = installedVersions();
const withPython = versions.get('python') === null ? test.skip : test;
const withGcc = versions.get('c') === null ? test.skip : test;
const withGxx = versions.get('c++') === null ? test.skip : test;
const onPath = (command: string) => spawnSync('bash', ['-c', `command -v ${command}`]).status === 0;
const hasPrlimit = onPath('prlimit');
const hasSetsid = onPath('setsid');

let engine: LocalEngine;

beforeAll(async () => {
  engine = new LocalEngine();
  await engine.port();
});

afterAll(async () => {
  await engine?.stop();
});

const python = (content: string, extra: Record<string, unknown> = {}) => ({
  language: 'python',
  version: '*',
  files: [{ name: 'main.py', content }],
  ...extra,
});

function runOf(reply: EngineReply): Record<string, unknown> {
  expect(reply.status).toBe(200);
  return (reply.json as { run: Record<string, unknown> }).run;
}

const postRaw = (body: string, extra: { chunked?: boolean } = {}) =>
  engine.request({
    method: 'POST',
    path: '/api/v2/execute',
    headers: { 'content-type': 'application/json' },
    body,
    ...extra,
  });

describe('files', () => {
  withPython('a hex file is written decoded, and is data: not an argument', async () => {
    const reply = await engine.execute({
      language: 'python',
      version: '*',
      files: [
        {
          name: 'main.py',
          content: 'import sys\nprint(list(open("d.bin","rb").read()), sys.argv)',
        },
        { name: 'd.bin', content: '00ff10', encoding: 'hex' },
      ],
    });
    expect(runOf(reply)).toMatchObject({ stdout: "[0, 255, 16] ['main.py']\n", code: 0 });
  });

  withPython('files in subdirectories are written there, for the program to import', async () => {
    const reply = await engine.execute({
      language: 'python',
      version: '*',
      files: [
        { name: 'main.py', content: 'from pkg.mod import x\nprint(x)' },
        { name: 'pkg/__init__.py', content: '' },
        { name: 'pkg/mod.py', content: 'x = 42' },
      ],
    });
    expect(runOf(reply)).toMatchObject({ stdout: '42\n', code: 0 });
  });

  // The Job turns an unknown encoding into utf8 before picking the first utf8 file, while the
  // validator only counted the files it already took for utf8.
  withPython('a file of unknown encoding before a utf8 one is the entry point', async () => {
    const reply = await engine.execute({
      language: 'python',
      version: '*',
      files: [
        { name: 'a.py', content: 'print("a")', encoding: 'latin1' },
        { name: 'b.py', content: 'print("b")' },
      ],
    });
    expect(runOf(reply)).toMatchObject({ stdout: 'a\n', code: 0 });
  });
});

describe('stdin and args', () => {
  withPython('a stdin that ends with a newline gets no second one', async () => {
    const reply = await engine.execute(
      python('import sys\nprint(repr(sys.stdin.read()))', { stdin: 'x\n' }),
    );
    expect(runOf(reply)).toMatchObject({ stdout: "'x\\n'\n" });
  });

  // v3.1.1 defaults with `||`: a falsy stdin or args is the default (master differs).
  withPython('stdin 0 and args 0 are the defaults', async () => {
    const reply = await engine.execute(
      python('import sys\nprint(repr(sys.stdin.read()), sys.argv)', { stdin: 0, args: 0 }),
    );
    expect(runOf(reply)).toMatchObject({ stdout: "'\\n' ['main.py']\n", code: 0 });
  });

  // Job: `stdin.slice(-1) !== '\n'` holds for an array, and `+= '\n'` joins it with commas.
  withPython('an array stdin arrives joined with commas', async () => {
    const reply = await engine.execute(
      python('import sys\nprint(repr(sys.stdin.read()))', { stdin: ['a', 'b'] }),
    );
    expect(runOf(reply)).toMatchObject({ stdout: "'a,b\\n'\n" });
  });

  // The run stage spreads args into the command line: an object is not iterable, the job fails.
  withPython('args that cannot be spread: 500 with an empty body', async () => {
    const reply = await engine.execute(python('print(1)', { args: { a: 1 } }));
    expect({ status: reply.status, text: reply.text }).toEqual({ status: 500, text: '' });
  });
});

describe('wrong types', () => {
  test.each<[string, unknown, number, unknown]>([
    // `file.content` of null throws a TypeError, which serialises as {}.
    ['a null file', { language: 'python', version: '*', files: [null] }, 400, {}],
    [
      'a file that is a number',
      { language: 'python', version: '*', files: [5] },
      400,
      { message: 'files[0].content is required as a string' },
    ],
    [
      'a numeric version',
      { language: 'python', version: 3, files: [{ content: 'print(1)' }] },
      400,
      { message: 'version is required as a string' },
    ],
    [
      'an empty language',
      { language: '', version: '*', files: [{ content: 'print(1)' }] },
      400,
      { message: 'language is required as a string' },
    ],
    [
      'a string for files',
      { language: 'python', version: '*', files: 'print(1)' },
      400,
      { message: 'files is required as an array' },
    ],
  ])('%s: Piston’s status and body', async (_what, body, status, expected) => {
    const reply = await engine.execute(body);
    expect({ status: reply.status, body: reply.json }).toEqual({ status, body: expected });
  });

  // path.join throws on a non-string name while the job writes its files: 500, empty.
  withPython('a numeric file name: 500 with an empty body', async () => {
    const reply = await engine.execute({
      language: 'python',
      version: '*',
      files: [{ name: 5, content: 'print(1)' }],
    });
    expect({ status: reply.status, text: reply.text }).toEqual({ status: 500, text: '' });
  });

  test('a JSON body that is not an object or array: 400 with the strict-mode error', async () => {
    const reply = await postRaw('true');
    expect(reply.status).toBe(400);
    const [first, ...frames] = String((reply.json as { stack: string }).stack).split('\n');
    expect(first).toBe(`SyntaxError: Unexpected token 't', "#" is not valid JSON`);
    expect(frames.length).toBeGreaterThan(0);
  });
});

describe('the 100 kB body limit (body-parser: 102400 bytes)', () => {
  /** A valid execute body of exactly `size` bytes. */
  function bodyOfSize(size: number): string {
    const empty = JSON.stringify(python('print("fits")\n#'));
    return JSON.stringify(python(`print("fits")\n#${'a'.repeat(size - empty.length)}`));
  }

  withPython('a body of exactly 102400 bytes runs', async () => {
    const body = bodyOfSize(102_400);
    expect(Buffer.byteLength(body)).toBe(102_400);
    expect(runOf(await postRaw(body))).toMatchObject({ stdout: 'fits\n' });
  });

  test('one byte more: 400 PayloadTooLargeError', async () => {
    const body = bodyOfSize(102_401);
    expect(Buffer.byteLength(body)).toBe(102_401);
    const reply = await postRaw(body);
    expect(reply.status).toBe(400);
    expect((reply.json as { stack: string }).stack).toMatch(
      /^PayloadTooLargeError: request entity too large\n {4}at /,
    );
  });

  test('a chunked body over the limit: 400 PayloadTooLargeError', async () => {
    const reply = await postRaw(bodyOfSize(200_000), { chunked: true });
    expect(reply.status).toBe(400);
    expect((reply.json as { stack: string }).stack).toMatch(/^PayloadTooLargeError: /);
  });

  withPython('a chunked body within the limit runs', async () => {
    const reply = await postRaw(JSON.stringify(python('print("chunked")')), { chunked: true });
    expect(runOf(reply)).toMatchObject({ stdout: 'chunked\n' });
  });
});

describe('routes, as Express matches them', () => {
  test('paths are case-insensitive, take a trailing slash and ignore the query', async () => {
    const plain = await engine.request({ method: 'GET', path: '/api/v2/runtimes' });
    expect(plain.status).toBe(200);
    for (const path of ['/API/V2/Runtimes', '/api/v2/runtimes/', '/api/v2/runtimes?x=1']) {
      const reply = await engine.request({ method: 'GET', path });
      expect({ path, status: reply.status, body: reply.json }).toEqual({
        path,
        status: 200,
        body: plain.json,
      });
    }
  });

  test('OPTIONS lists a route’s methods', async () => {
    const reply = await engine.request({ method: 'OPTIONS', path: '/api/v2/runtimes' });
    expect({ status: reply.status, type: reply.headers['content-type'], text: reply.text }).toEqual(
      { status: 200, type: 'text/html; charset=utf-8', text: 'GET,HEAD' },
    );
  });

  test.each([
    ['POST', '/api/v2/runtimes'],
    ['PUT', '/api/v2/execute'],
    // Packages are not managed here: a plain 404, never the crash Piston has offline.
    ['GET', '/api/v2/packages'],
    ['POST', '/api/v2/packages'],
  ])('%s %s: 404 Not Found', async (method, path) => {
    const reply = await engine.request({
      method,
      path,
      headers: { 'content-type': 'application/json' },
      body: method === 'GET' ? undefined : '{}',
    });
    expect({ status: reply.status, body: reply.json }).toEqual({
      status: 404,
      body: { message: 'Not Found' },
    });
  });

  test('a write under /api/v2 that is not JSON: 415, whatever the route', async () => {
    const reply = await engine.request({
      method: 'DELETE',
      path: '/api/v2/packages',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect({ status: reply.status, body: reply.json }).toEqual({
      status: 415,
      body: { message: 'requests must be of type application/json' },
    });
  });
});

describe('stages', () => {
  // Contract: a crash shows as code 128+n (the run script's shell reports it), no signal.
  withPython('a program killed by a signal: code 128+n, signal null', async () => {
    const reply = await engine.execute(
      python('import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)'),
    );
    expect(runOf(reply)).toMatchObject({ code: 139, signal: null, stdout: '' });
  });

  // No fixture has C++; the README's example does.
  withGxx('C++ compiles and runs with its stdin, under its alias', async () => {
    const reply = await engine.execute({
      language: 'cpp',
      version: '*',
      files: [
        {
          content:
            '#include <iostream>\nint main() { std::string s; std::cin >> s; std::cout << s << std::endl; }',
        },
      ],
      stdin: 'hello',
    });
    expect(reply.json).toEqual({
      compile: { stdout: '', stderr: '', code: 0, signal: null, output: '' },
      run: { stdout: 'hello\n', stderr: '', code: 0, signal: null, output: 'hello\n' },
      language: 'c++',
      version: versions.get('c++'),
    });
  });

  // The stage's leader itself killed by a signal (not by the engine): Piston reports the signal.
  test('a run whose run script is killed: code null, the signal', async () => {
    const reply = await engine.execute({
      language: 'bash',
      version: '*',
      files: [{ content: 'echo before\nkill -9 $PPID\nsleep 5' }],
    });
    expect(runOf(reply)).toEqual({
      stdout: 'before\n',
      stderr: '',
      code: null,
      signal: 'SIGKILL',
      output: 'before\n',
    });
  });

  withGcc('a compile stage killed by its timeout: no run, `run` a copy of `compile`', async () => {
    const reply = await engine.execute({
      language: 'c',
      version: '*',
      files: [{ name: 'main.c', content: 'int main(void) { return 0; }' }],
      // No compiler finishes in 1 ms.
      compile_timeout: 1,
    });
    expect(reply.status).toBe(200);
    const body = reply.json as { compile: Record<string, unknown>; run: unknown };
    expect(body.compile).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(body.run).toEqual(body.compile);
  });

  (hasPrlimit ? withPython : test.skip)(
    'runs have Piston’s default open-files limit (2048)',
    async () => {
      const reply = await engine.execute(
        python('import resource\nprint(resource.getrlimit(resource.RLIMIT_NOFILE))'),
      );
      expect(runOf(reply)).toMatchObject({ stdout: '(2048, 2048)\n' });
    },
  );

  test('what a run leaves running in its process group dies with it', async () => {
    const reply = await engine.execute({
      language: 'bash',
      version: '*',
      files: [{ content: 'sleep 60 &\necho $!' }],
    });
    const pid = Number(runOf(reply).stdout);
    expect(pid).toBeGreaterThan(0);
    await waitUntilGone(pid);
  });

  (hasSetsid ? test : test.skip)(
    'a process that left the group does not hold the reply (it is not a sandbox)',
    async () => {
      // setsid takes the sleep out of the job's group, still holding the job's stdout: the
      // reply must not wait for it (60 s, past the request's own timeout). The job waits until
      // the sleep has left the group, so that the engine's kill cannot catch it first.
      const reply = await engine.execute({
        language: 'bash',
        version: '*',
        files: [
          {
            content: [
              'setsid sleep 60 &',
              'pid=$!',
              `until [ "$(cut -d' ' -f5 /proc/$pid/stat)" = "$pid" ]; do sleep 0.01; done`,
              'echo "$pid"',
            ].join('\n'),
          },
        ],
      });
      const run = runOf(reply);
      const pid = Number(run.stdout);
      try {
        expect(run).toMatchObject({ code: 0, signal: null });
        expect(pid).toBeGreaterThan(0);
        // It outlived the job: the engine is no sandbox, and says so.
        expect(isAlive(pid)).toBe(true);
      } finally {
        if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
      }
    },
  );
});
