import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultPython, RunnerHarness, type Channel } from '../support/pythonRunnerHarness';

/**
 * stdin through the runner is stdin in a plain job: every way of reading descriptor 0, and a
 * child process inheriting it, sees the caller's text and the newline Piston adds, nothing
 * more and nothing less. Each case is also run as a plain `python3 main.py` job, and the two
 * must agree (fixtures python_stdin_fd0 and python_stdin_open0 show real Piston's plain job).
 */
const STDIN = 'first line\nsecond line';
const EXPECTED = `${STDIN}\n`;

const readers: [string, string][] = [
  ['input() twice', "print(repr(input() + '\\n' + input() + '\\n'))"],
  ['sys.stdin.read()', 'import sys\nprint(repr(sys.stdin.read()))'],
  ['open(0).read()', 'print(repr(open(0).read()))'],
  [
    'os.read(0, n) until the end',
    [
      'import os',
      "data = b''",
      'while True:',
      '    chunk = os.read(0, 7)',
      '    if not chunk:',
      '        break',
      '    data += chunk',
      'print(repr(data.decode()))',
    ].join('\n'),
  ],
  ['sys.stdin.buffer.raw.read()', 'import sys\nprint(repr(sys.stdin.buffer.raw.read().decode()))'],
  [
    'a child process (cat) inheriting fd 0',
    [
      'import subprocess, sys',
      "out = subprocess.run(['cat'], stdout=subprocess.PIPE).stdout",
      'print(repr(out.decode()))',
    ].join('\n'),
  ],
  ['sys.stdin line iteration', "import sys\nprint(repr(''.join(line for line in sys.stdin)))"],
];

let harness: RunnerHarness;
beforeEach(() => {
  harness = new RunnerHarness();
});
afterEach(() => {
  harness.cleanup();
});

function plainJob(code: string): string {
  const file = path.join(harness.root, 'main.py');
  writeFileSync(file, code);
  const child = spawnSync(defaultPython(), [file], {
    cwd: harness.root,
    input: `${STDIN}\n`,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return child.stdout;
}

describe.each<Channel>(['file', 'stdout'])('stdin with the result via %s', (channel) => {
  it.each(readers)('%s sees exactly the caller stdin', async (_name, code) => {
    const expected = `${JSON.stringify(EXPECTED).replace(/^"|"$/g, "'")}\n`;
    const viaRunner = await harness.run(code, { channel, stdin: STDIN });
    expect(viaRunner.stderr).toBe('');
    expect(viaRunner.stdout).toBe(expected);
    expect(plainJob(code)).toBe(expected);
  });
});
