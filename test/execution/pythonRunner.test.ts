import { spawnSync } from 'node:child_process';
import { chownSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  RUNNER_FILE_NAME,
  runnerApplies,
  warmUpProgram,
  wrapPythonCode,
} from '../../adapter/execution/pythonRunner/index';
import {
  defaultPython,
  installedPythons,
  RunnerHarness,
  type Channel,
} from '../support/pythonRunnerHarness';

const installedPythonList = [...installedPythons()];

// The runner is real Python: each case runs it with this machine's python3 the way Piston
// does (see the harness), with the result out of band (file) and on stdout (remote engines).
let harness: RunnerHarness;
beforeEach(() => {
  harness = new RunnerHarness();
});
afterEach(() => {
  harness.cleanup();
});

describe.each<Channel>(['file', 'stdout'])('Python runner, result via %s', (channel) => {
  const run = (code: string, options: Parameters<RunnerHarness['run']>[1] = {}) =>
    harness.run(code, { channel, ...options });

  it.each([
    ["print('hi')\n1 + 1", 'hi\n', 2],
    ["{'a': [1, 2.5, None], 'b': True}", '', { a: [1, 2.5, null], b: true }],
    ["'text'", '', 'text'],
    ["'quote \" back\\\\slash \\n newline é'", '', 'quote " back\\slash \n newline é'],
    ['(1, 2)', '', [1, 2]],
    ['x = 5', '', ''],
    ["print('only output')", 'only output\n', ''],
    ['None', '', ''],
    ['True', '', true],
    ['-2.5', '', -2.5],
    // Past 2**53 a JSON reader using doubles would change the number: its exact repr instead.
    ['10 ** 20', '', '100000000000000000000'],
    ['2 ** 53 - 1', '', 9007199254740991],
    ['2 ** 53 + 1', '', '9007199254740993'],
    ['-(2 ** 60)', '', '-1152921504606846976'],
    ['{"a": 2 ** 70, "b": [1]}', '', "{'a': 1180591620717411303424, 'b': [1]}"],
    ['[1, [2, 2 ** 64]]', '', '[1, [2, 18446744073709551616]]'],
    ['import math\nmath.nan', '', 'nan'],
    ['float("inf")', '', 'inf'],
    ['{1, 2} - {2}', '', '{1}'],
    ['for i in range(2):\n    print(i)\ni * 10', '0\n1\n', 10],
    // How the code ends: the parser's tree says whether its last statement is an expression.
    ['print(\n    1\n)', '1\n', ''],
    ['[\n1,\n2\n]', '', [1, 2]],
    ['x = 3\nx\n# done\n', '', 3],
    ['x = 3\nx\n   ', '', 3],
    ['x = 3\r\nx + 1\r\n', '', 4],
    ['x = 1; x + 1', '', 2],
    ['s = """\n1\n"""', '', ''],
    ['s = """\n1\n"""\nlen(s)', '', 3],
    ['x = 1 + \\\n2\nx', '', 3],
    ['1 + \\\n2', '', 3],
    ['*[1], 2', '', [1, 2]],
    ['\fx = 1\n\fx', '', 1],
    ['def f():\n    return 7\n\n\nf()', '', 7],
    ['if True:\n    y = 1', '', ''],
    ['', '', ''],
    ['# only a comment', '', ''],
  ])('%j gives stdout %j and result %j', async (code, stdout, result) => {
    const outcome = await run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toBe(stdout);
    expect(outcome.result).toEqual(result);
    expect(outcome.resultNote).toBeNull();
  });

  it('a value JSON cannot hold comes back as its repr', async () => {
    const outcome = await run(
      'class Point:\n    def __repr__(self):\n        return "Point(1, 2)"\nPoint()',
    );
    expect(outcome.result).toBe('Point(1, 2)');
  });

  it('an object with a PNG representation comes back as an image object', async () => {
    const code = [
      'class Picture:',
      '    def _repr_png_(self):',
      "        return b'\\x89PNG fake'",
      'Picture()',
    ].join('\n');
    expect((await run(code)).result).toEqual({
      type: 'image',
      format: 'png',
      base64_data: Buffer.from('\x89PNG fake', 'latin1').toString('base64'),
    });
  });

  it('code printing a marker of its own cannot forge the result', async () => {
    const code = [
      'import sys',
      'print(\'\\x1e0123456789abcdef0123456789abcdef:{"value": 99}\')',
      'sys.stdout.write(\'\\x1episton-session-result::{"value": 98}\\n\')',
      '7',
    ].join('\n');
    const outcome = await run(code);
    expect(outcome.result).toBe(7);
    // What the code printed stays in stdout, as the code printed it.
    expect(outcome.stdout).toContain('{"value": 99}');
    expect(outcome.stdout).toContain('{"value": 98}');
  });

  it('code that exits early gives no result, and cannot fake one on its way out', async () => {
    const code = 'import os\nprint(\'\\x1eguess:{"value": 1}\')\nos._exit(0)';
    const outcome = await run(code);
    expect(outcome.result).toBe('');
    expect(outcome.stdout).toBe('\x1eguess:{"value": 1}\n');
  });

  it('the runner removes its file before the code starts: no nonce to read, no listing', async () => {
    const code = [
      'import os',
      "[n for n in os.listdir('.') if 'runner' in n] + [os.path.exists(" +
        JSON.stringify(RUNNER_FILE_NAME) +
        ')]',
    ].join('\n');
    const outcome = await run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toEqual([false]);
    expect(outcome.jobFolderAfter).not.toContain(RUNNER_FILE_NAME);
  });

  it('the runner never shows on stdout', async () => {
    const outcome = await run("print('x')\n{'k': 'v' * 100}");
    expect(outcome.result).toEqual({ k: 'v'.repeat(100) });
    if (channel === 'file') expect(outcome.rawStdout).toBe('x\n');
    expect(outcome.stdout).toBe('x\n');
  });

  it('a result over the limit is cut, and the note says so', async () => {
    const outcome = await run("'x' * 10000", { outputMaxBytes: 8 * 1024 });
    const limit = channel === 'file' ? 1024 * 1024 : 1024;
    if (channel === 'file') {
      expect(outcome.result).toBe('x'.repeat(10000));
      expect(outcome.resultNote).toBeNull();
    } else {
      expect(typeof outcome.result).toBe('string');
      expect((outcome.result as string).length).toBe(limit + 3);
      expect(outcome.result as string).toMatch(/\.\.\.$/);
      expect(outcome.resultNote).toContain(`cut to ${limit} of its 10002 characters`);
    }
  });
});

describe('Python runner: the program behaves as if run directly', () => {
  it('input() reads the caller stdin line by line', async () => {
    const outcome = await harness.run('a = input()\nb = input()\na + "+" + b', { stdin: 'x\ny' });
    expect(outcome.result).toBe('x+y');
  });

  it('args and __name__ are as for a script called main.py', async () => {
    const outcome = await harness.run('import sys\nprint(__name__)\nsys.argv', {
      args: ['--flag', 'v'],
    });
    expect(outcome.stdout).toBe('__main__\n');
    expect(outcome.result).toEqual(['main.py', '--flag', 'v']);
  });

  it('sys.exit passes its code through, with no result', async () => {
    const outcome = await harness.run("print('bye')\nimport sys\nsys.exit(3)");
    expect(outcome.exitCode).toBe(3);
    expect(outcome.stdout).toBe('bye\n');
    expect(outcome.result).toBe('');
  });

  it('a traceback shows only the user code, with its lines', async () => {
    const outcome = await harness.run("def f():\n    return 1 / 0\nprint('before')\nf()");
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stdout).toBe('before\n');
    expect(outcome.result).toBe('');
    expect(outcome.stderr).toMatch(
      /^Traceback \(most recent call last\):\n {2}File "main.py", line 4/,
    );
    expect(outcome.stderr).toContain('    return 1 / 0\n');
    expect(outcome.stderr).toMatch(/ZeroDivisionError: division by zero\n$/);
    expect(outcome.stderr).not.toContain(RUNNER_FILE_NAME);
    expect(outcome.stderr).not.toContain('_piston_session');
  });

  it('tracebacks and warnings the code prints itself show its lines too', async () => {
    const code = [
      'import traceback, warnings',
      'try:',
      '    {}["missing"]',
      'except KeyError:',
      '    traceback.print_exc()',
      "warnings.warn('careful')",
    ].join('\n');
    const outcome = await harness.run(code);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stderr).toContain('File "main.py", line 3');
    expect(outcome.stderr).toContain('    {}["missing"]\n');
    expect(outcome.stderr).toContain("main.py:6: UserWarning: careful\n  warnings.warn('careful')");
  });

  it.each([
    ['print(', "SyntaxError: '(' was never closed"],
    ['return 5', "SyntaxError: 'return' outside function"],
    ['x = 1\n  y = 2', 'IndentationError: unexpected indent'],
  ])("a syntax error in %j reads like Python's own", async (code, message) => {
    const outcome = await harness.run(code);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toMatch(/^ {2}File "main.py", line \d+\n/);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stderr).not.toContain('Traceback');
    expect(outcome.stderr).not.toContain('_piston_session');
  });

  it.each(installedPythonList)(
    "Python %s: a warning from the code's compile shows once",
    async (_version, python) => {
      // 3.12+ warns of '\d' (SyntaxWarning); older ones keep it quiet (DeprecationWarning).
      const outcome = await harness.run("print('\\d'); y = 1\ny", { python });
      expect(outcome.stdout).toBe('\\d\n');
      expect(outcome.result).toBe(1);
      expect(outcome.stderr.split('invalid escape sequence').length - 1).toBeLessThanOrEqual(1);
    },
  );

  it("a compiler's syntax error shows the code's line, not a main.py beside it", async () => {
    harness.addJobFile('main.py', 'this is not the code\n');
    const outcome = await harness.run('x = 1\nreturn x');
    expect(outcome.stderr).toContain('    return x\n');
    expect(outcome.stderr).not.toContain('not the code');
  });

  it('user-defined classes pickle (the code runs as a real __main__ module)', async () => {
    const outcome = await harness.run(
      'import pickle\nclass A:\n    pass\ntype(pickle.loads(pickle.dumps(A()))).__name__',
    );
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toBe('A');
  });

  it('hides our frames inside a traceback too (an error raised through a /mnt/data wrapper)', async () => {
    const code = [
      'def load():',
      "    return open('/mnt/data/missing.csv')",
      'try:',
      '    load()',
      'except OSError as error:',
      "    raise RuntimeError('wrapped') from error",
    ].join('\n');
    const outcome = await harness.run(code);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toContain("No such file or directory: '/mnt/data/missing.csv'");
    expect(outcome.stderr).toContain('RuntimeError: wrapped');
    expect(outcome.stderr).toContain('File "main.py", line 2, in load');
    expect(outcome.stderr).not.toContain(RUNNER_FILE_NAME);
    expect(outcome.stderr).not.toContain('in call');
  });

  it('a value whose attribute lookup raises still gives a result, never a runner crash', async () => {
    const code = [
      'class Odd:',
      '    def __getattr__(self, name):',
      '        raise KeyError(name)',
      '    def __repr__(self):',
      "        return 'Odd()'",
      'Odd()',
    ].join('\n');
    const outcome = await harness.run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.result).toBe('Odd()');
  });

  it('the result survives code that detaches or closes sys.stdout', async () => {
    const code = [
      'import codecs, sys',
      "sys.stdout = codecs.getwriter('utf-8')(sys.stdout.detach())",
      "print('still printing')",
      'sys.stdout.flush()',
      '41 + 1',
    ].join('\n');
    for (const channel of ['file', 'stdout'] as const) {
      const outcome = await harness.run(code, { channel });
      expect(outcome.stderr).toBe('');
      expect(outcome.stdout).toBe('still printing\n');
      expect(outcome.result).toBe(42);
    }
  });

  it('__file__ names main.py in the working folder; a leading BOM is ignored', async () => {
    const outcome = await harness.run('\uFEFFimport os\nos.path.basename(__file__)');
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toBe('main.py');
  });

  it('a PNG too large for the result comes back as its repr, with a note', async () => {
    const code = [
      'class Picture:',
      '    def _repr_png_(self):',
      "        return b'x' * 4000",
      '    def __repr__(self):',
      "        return 'Picture()'",
      'Picture()',
    ].join('\n');
    const outcome = await harness.run(code, { channel: 'stdout', outputMaxBytes: 8 * 1024 });
    expect(outcome.result).toBe('Picture()');
    expect(outcome.resultNote).toContain('PNG image (4000 bytes) is over the result limit');
  });
});

describe('Python runner: its compiled code, kept by the adapter', () => {
  const caches = () => harness.resultsFolder().filter((name) => name.startsWith('cache-'));
  const part = (name: string) => /^cache-([a-z]+)-/.exec(name)?.[1];

  it('jobs compile it until the warm-up, then load the copies the adapter owns, and behave the same', async () => {
    expect((await harness.run('1 + 1')).result).toBe(2);
    // No job writes the cache: a job's file there would run in every later job.
    expect(caches()).toEqual([]);
    const sources = harness.resultsFolder().filter((name) => name.startsWith('source-'));
    expect(sources.map((name) => name.replace(/^source-/, '')).sort()).toEqual([
      'rare.py',
      'runner.py',
      'uploads.py',
    ]);
    expect(
      harness
        .warmUp()
        .map((name) => name.split('-')[0])
        .sort(),
    ).toEqual(['rare', 'runner', 'uploads']);
    expect(caches().map(part).sort()).toEqual(['rare', 'runner', 'uploads']);
    expect(harness.resultsFolder().filter((name) => name.startsWith('incoming-'))).toEqual([]);
    for (const code of ["print('x')\n[3]", 'def f():\n    return 1 / 0\nf()']) {
      harness.nextJobFolder();
      const later = await harness.run(code);
      if (later.exitCode === 0) {
        expect(later).toMatchObject({ stdout: 'x\n', result: [3], stderr: '' });
      } else {
        // Tracebacks still hide the runner, compiled in the warm-up's folder.
        expect(later.stderr).toMatch(/^Traceback[^]*File "main.py", line 3[^]*ZeroDivisionError/);
        expect(later.stderr).not.toContain('_piston_session');
        expect(later.stderr).not.toContain('piston-session-runner');
        expect(later.stderr).not.toContain('.session_runner.py');
      }
      expect(later.jobFolderAfter).toEqual([]);
    }
  });

  it('the entry file carries no runner source when the runner files are at hand', async () => {
    const run = await harness.run('1');
    expect(run.result).toBe(1);
    expect(harness.lastEntryBytes).toBeLessThan(4096);
  });

  it("a user's job carries the boot code but not the warm-up's, which only the warm-up job runs", () => {
    const code = harness.runnerCode();
    const job = wrapPythonCode('1', {
      outputMaxBytes: 1024,
      resultFile: null,
      filesDir: null,
      runnerCode: code,
    });
    expect(job.file.content).toContain('def _piston_session_code(');
    expect(job.file.content).not.toContain('_piston_session_warm');
    const warmUp = warmUpProgram(code, '/nowhere/out-');
    expect(warmUp.content).toContain('def _piston_session_code(');
    expect(warmUp.content).toContain('def _piston_session_warm(');
    // Comment lines are for readers of the .py files, not for every job's bytes.
    expect(job.file.content).not.toMatch(/^\s*#/m);
    expect(warmUp.content).not.toMatch(/^\s*#/m);
  });

  it('a cache that is not code is compiled afresh', async () => {
    harness.warmUp();
    const [cache] = caches().filter((name) => part(name) === 'runner');
    writeFileSync(path.join(path.dirname(harness.cachePrefix()), cache ?? ''), 'not marshal data');
    expect((await harness.run('5')).result).toBe(5);
  });

  // A job's uid may create any name in the results folder, and code can read the cache's
  // prefix from the runner's frames: what it plants must never run in a later job.
  const asRoot = process.getuid?.() === 0;
  (asRoot ? it : it.skip)(
    'compiled code planted under a cache name runs only if the adapter owns it (needs root)',
    async () => {
      const python = defaultPython();
      const plant = (owner: number) => {
        const planted = spawnSync(
          python,
          [
            '-c',
            [
              'import marshal, sys',
              "path = '%srare-%s-%x' % (sys.argv[1], sys.implementation.cache_tag, sys.hexversion)",
              "open(path, 'wb').write(marshal.dumps(compile('print(\"PLANTED\")', 'x', 'exec')))",
              'print(path)',
            ].join('\n'),
            harness.cachePrefix(),
          ],
          { encoding: 'utf8' },
        );
        const file = planted.stdout.trim();
        chownSync(file, owner, owner);
        return file;
      };
      const failing = 'def f():\n    return 1 / 0\nf()';
      const file = plant(4321);
      const ignored = await harness.run(failing, { python });
      expect(ignored.stdout).not.toContain('PLANTED');
      expect(ignored.stderr).toContain('ZeroDivisionError');
      // The same file as the adapter's own is run: the check above is what stops it.
      chownSync(file, 0, 0);
      harness.nextJobFolder();
      expect((await harness.run(failing, { python })).stdout).toContain('PLANTED');
      // A second name for it (a hard link a job made) is not what the adapter put there.
      const link = path.join(harness.root, 'second-name');
      linkSync(file, link);
      harness.nextJobFolder();
      expect((await harness.run(failing, { python })).stdout).not.toContain('PLANTED');
    },
  );
});

describe('Python runner: where files are', () => {
  it('Path objects under /mnt/data lead to the job folder when files travel with the job', async () => {
    harness.addJobFile('p.txt', 'via pathlib');
    const outcome = await harness.run(
      "from pathlib import Path\nopen(Path('/mnt/data') / 'p.txt').read()",
    );
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toBe('via pathlib');
  });

  it('/mnt/data paths lead to the files beside the code, as in Azure', async () => {
    harness.addJobFile('data.csv', 'a,b\n1,2\n');
    const code = [
      "first = open('/mnt/data/data.csv').read()",
      'import os',
      "os.chdir('/mnt/data')",
      "second = open('data.csv').read()",
      "[first == second, 'data.csv' in os.listdir('/mnt/data'), 'data.csv' in os.listdir()]",
    ].join('\n');
    const outcome = await harness.run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toEqual([true, true, true]);
  });

  it('with a session folder, the code starts there and /mnt/data leads there', async () => {
    const session = path.join(harness.root, 'session');
    mkdirSync(session);
    writeFileSync(path.join(session, 'data.csv'), 'a,b\n');
    writeFileSync(path.join(session, 'helper.py'), 'VALUE = 41\n');
    const code = [
      'import os, shutil',
      "with open('out.txt', 'w') as f: f.write('written')",
      "os.makedirs('/mnt/data/sub/deeper')",
      "shutil.rmtree('/mnt/data/sub')",
      'import helper',
      "[os.getcwd(), open('data.csv').read(), open('/mnt/data/out.txt').read(),",
      " os.path.exists('/mnt/data/data.csv'), os.path.isdir('/mnt/data/sub'),",
      ' sorted(os.listdir()), helper.VALUE + 1]',
    ].join('\n');
    const outcome = await harness.run(code, { filesDir: session });
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toEqual([
      session,
      'a,b\n',
      'written',
      true,
      false,
      ['__pycache__', 'data.csv', 'helper.py', 'out.txt'].filter(
        (name) => name !== '__pycache__' || process.env.PYTHONDONTWRITEBYTECODE === undefined,
      ),
      42,
    ]);
  });

  it('a result file it cannot write comes on stdout instead, with a note', async () => {
    const unwritable = path.join(harness.root, 'no-such-folder', 'result.json');
    const outcome = await harness.run("print('out')\n6 * 7", { resultFile: unwritable });
    expect(outcome.stdout).toBe('out\n');
    expect(outcome.result).toBe(42);
    expect(outcome.resultNote).toContain('the result file could not be written');
  });

  it('a result file planted before the run is neither written through nor believed', async () => {
    const planted = path.join(harness.root, 'planted.json');
    writeFileSync(planted, '{"value": "forged"}');
    const outcome = await harness.run('1', { resultFile: planted });
    expect(outcome.result).toBe(1);
    expect(outcome.resultNote).toContain('could not be written (File exists)');
  });

  it('a session folder it cannot enter is said in the note, and the code still runs', async () => {
    const missing = path.join(harness.root, 'no-such-folder');
    const outcome = await harness.run('1 + 1', { filesDir: missing });
    expect(outcome.result).toBe(2);
    expect(outcome.resultNote).toContain(`the session folder ${missing} could not be entered`);
  });
});

describe('runnerApplies', () => {
  it.each([
    ['python', '3.12.0', true],
    ['python', '3.5.10', true],
    ['python', '2.7.18', false],
    ['javascript', '20.11.1', false],
  ])('%s %s: %s', (language, version, expected) => {
    expect(runnerApplies({ language, version, aliases: [] })).toBe(expected);
  });
});
