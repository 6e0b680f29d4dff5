import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  extractResult,
  runnerApplies,
  RUNNER_FILE_NAME,
  wrapPythonCode,
} from '../../adapter/execution/pythonRunner';

// The runner is real Python: each case writes it to a fresh folder and runs it with this
// machine's python3 the way Piston does (`python3 <first file> <args>`, stdin with a newline).
let workdir: string;
beforeEach(() => {
  workdir = mkdtempSync(path.join(os.tmpdir(), 'psa-runner-'));
});
afterEach(() => {
  rmSync(workdir, { recursive: true, force: true });
});

function run(
  code: string,
  {
    stdin,
    args = [],
    outputMaxBytes = 1024 * 1024,
  }: { stdin?: string; args?: string[]; outputMaxBytes?: number } = {},
) {
  const program = wrapPythonCode(code, stdin, outputMaxBytes);
  writeFileSync(path.join(workdir, program.file.name), program.file.content);
  const child = spawnSync('python3', [program.file.name, ...args], {
    cwd: workdir,
    input: `${program.stdin}\n`,
    encoding: 'utf8',
    timeout: 20_000,
  });
  const extracted = extractResult(child.stdout, program.nonce);
  return { ...extracted, stderr: child.stderr, exitCode: child.status };
}

describe('Python runner: the last expression becomes the result', () => {
  it.each([
    ["print('hi')\n1 + 1", 'hi\n', 2],
    ["{'a': [1, 2.5, None], 'b': True}", '', { a: [1, 2.5, null], b: true }],
    ["'text'", '', 'text'],
    ['(1, 2)', '', [1, 2]],
    ['x = 5', '', ''],
    ["print('only output')", 'only output\n', ''],
    ['None', '', ''],
    ['import math\nmath.nan', '', 'nan'],
    ['{1, 2} - {2}', '', '{1}'],
    ['for i in range(2):\n    print(i)\ni * 10', '0\n1\n', 10],
  ])('%j gives stdout %j and result %j', (code, stdout, result) => {
    const outcome = run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toBe(stdout);
    expect(outcome.result).toEqual(result);
  });

  it('a value JSON cannot hold comes back as its repr', () => {
    const outcome = run(
      'class Point:\n    def __repr__(self):\n        return "Point(1, 2)"\nPoint()',
    );
    expect(outcome.result).toBe('Point(1, 2)');
  });

  it('an object with a PNG representation comes back as an image object', () => {
    const code = [
      'class Picture:',
      '    def _repr_png_(self):',
      "        return b'\\x89PNG fake'",
      'Picture()',
    ].join('\n');
    expect(run(code).result).toEqual({
      type: 'image',
      format: 'png',
      base64_data: Buffer.from('\x89PNG fake', 'latin1').toString('base64'),
    });
  });

  it('code printing a fake marker cannot forge the result', () => {
    const code = [
      'import sys',
      'print(\'\\x1episton-session-result:0123456789abcdef0123456789abcdef:{"value": 99}\')',
      'sys.stdout.write(\'\\x1episton-session-result::{"value": 98}\\n\')',
      '7',
    ].join('\n');
    const outcome = run(code);
    expect(outcome.result).toBe(7);
    // What the code printed stays in stdout, as the code printed it.
    expect(outcome.stdout).toContain('{"value": 99}');
    expect(outcome.stdout).toContain('{"value": 98}');
  });

  it('code that exits early gives no result, and cannot fake one on its way out', () => {
    const code = 'import os\nprint(\'\\x1episton-session-result:guess:{"value": 1}\')\nos._exit(0)';
    const outcome = run(code);
    expect(outcome.result).toBe('');
  });
});

describe('Python runner: the program behaves as if run directly', () => {
  it('stdin reaches the code untouched, the nonce line does not', () => {
    const outcome = run('import sys\ndata = sys.stdin.read()\nprint(repr(data))', {
      stdin: 'first\nsecond',
    });
    expect(outcome.stdout).toBe("'first\\nsecond\\n'\n");
  });

  it('input() reads the caller stdin line by line', () => {
    const outcome = run('a = input()\nb = input()\na + "+" + b', { stdin: 'x\ny' });
    expect(outcome.result).toBe('x+y');
  });

  it('args and __name__ are as for a script called main.py', () => {
    const outcome = run('import sys\nprint(__name__)\nsys.argv', { args: ['--flag', 'v'] });
    expect(outcome.stdout).toBe('__main__\n');
    expect(outcome.result).toEqual(['main.py', '--flag', 'v']);
  });

  it('sys.exit passes its code through, with no result', () => {
    const outcome = run("print('bye')\nimport sys\nsys.exit(3)");
    expect(outcome.exitCode).toBe(3);
    expect(outcome.stdout).toBe('bye\n');
    expect(outcome.result).toBe('');
  });

  it('a traceback shows only the user code, with its lines', () => {
    const outcome = run("def f():\n    return 1 / 0\nprint('before')\nf()");
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

  it.each([
    ['print(', "SyntaxError: '(' was never closed"],
    ['return 5', "SyntaxError: 'return' outside function"],
    ['x = 1\n  y = 2', 'IndentationError: unexpected indent'],
  ])("a syntax error in %j reads like Python's own", (code, message) => {
    const outcome = run(code);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toMatch(/^ {2}File "main.py", line \d+\n/);
    expect(outcome.stderr).toContain(message);
    expect(outcome.stderr).not.toContain('Traceback');
    expect(outcome.stderr).not.toContain('_piston_session');
  });

  it('user-defined classes pickle (the code runs as a real __main__ module)', () => {
    const outcome = run(
      'import pickle\nclass A:\n    pass\ntype(pickle.loads(pickle.dumps(A()))).__name__',
    );
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toBe('A');
  });

  it('hides our frames inside a traceback too (an error raised through a /mnt/data wrapper)', () => {
    const code = [
      'def load():',
      "    return open('/mnt/data/missing.csv')",
      'try:',
      '    load()',
      'except OSError as error:',
      "    raise RuntimeError('wrapped') from error",
    ].join('\n');
    const outcome = run(code);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toContain('FileNotFoundError');
    expect(outcome.stderr).toContain('RuntimeError: wrapped');
    expect(outcome.stderr).toContain('File "main.py", line 2, in load');
    expect(outcome.stderr).not.toContain(RUNNER_FILE_NAME);
    expect(outcome.stderr).not.toContain('in call');
  });

  it('a value whose attribute lookup raises still gives a result, never a runner crash', () => {
    const code = [
      'class Odd:',
      '    def __getattr__(self, name):',
      '        raise KeyError(name)',
      '    def __repr__(self):',
      "        return 'Odd()'",
      'Odd()',
    ].join('\n');
    const outcome = run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.result).toBe('Odd()');
  });

  it('the result survives code that detaches or closes sys.stdout', () => {
    const code = [
      'import codecs, sys',
      "sys.stdout = codecs.getwriter('utf-8')(sys.stdout.detach())",
      "print('still printing')",
      'sys.stdout.flush()',
      '41 + 1',
    ].join('\n');
    const outcome = run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout).toBe('still printing\n');
    expect(outcome.result).toBe(42);
  });

  it('a long result is cut to fit an eighth of the output limit', () => {
    const outcome = run("'x' * 10000", { outputMaxBytes: 8 * 1024 });
    expect(typeof outcome.result).toBe('string');
    expect((outcome.result as string).length).toBeLessThanOrEqual(1024 + 3);
    expect(outcome.result as string).toMatch(/\.\.\.$/);
  });

  it('__file__ names main.py in the working folder; a leading BOM is ignored', () => {
    const outcome = run('\uFEFFimport os\nos.path.basename(__file__)');
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toBe('main.py');
  });

  it('Path objects under /mnt/data lead to the working folder too', () => {
    writeFileSync(path.join(workdir, 'p.txt'), 'via pathlib');
    const outcome = run("from pathlib import Path\nopen(Path('/mnt/data') / 'p.txt').read()");
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toBe('via pathlib');
  });

  it('/mnt/data paths lead to the files beside the code, as in Azure', () => {
    writeFileSync(path.join(workdir, 'data.csv'), 'a,b\n1,2\n');
    const code = [
      "first = open('/mnt/data/data.csv').read()",
      'import os',
      "os.chdir('/mnt/data')",
      "second = open('data.csv').read()",
      "[first == second, 'data.csv' in os.listdir('/mnt/data'), 'data.csv' in os.listdir()]",
    ].join('\n');
    const outcome = run(code);
    expect(outcome.stderr).toBe('');
    expect(outcome.result).toEqual([true, true, true]);
  });
});

describe('extractResult', () => {
  it('leaves stdout alone when there is no marker (the code raised or was killed)', () => {
    expect(extractResult('partial output', 'abc')).toEqual({
      stdout: 'partial output',
      result: '',
    });
  });

  it('drops a marker cut short by the output limit, keeping the output before it', () => {
    const stdout = 'out\u001episton-session-result:abc:{"value": 1';
    expect(extractResult(stdout, 'abc')).toEqual({ stdout: 'out', result: '' });
  });

  it('keeps output printed after the marker (a thread still running)', () => {
    const stdout = 'a\n\u001episton-session-result:abc:{"value": 3}\nlate\n';
    expect(extractResult(stdout, 'abc')).toEqual({ stdout: 'a\nlate\n', result: 3 });
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
