import { spawnSync } from 'node:child_process';
import { installedPythons, RunnerHarness } from '../support/pythonRunnerHarness';

/**
 * Every Python run through the adapter pays for each module the runner imports at start, so
 * for `print(1)` it may import only what the interpreter imports for `python3 -c pass` anyway,
 * plus the few cheap built-ins listed here. Checked with `-X importtime` on every Python 3.6+
 * on this machine (Piston's packages are plain builds; a site's sitecustomize is its own).
 */
const ALLOWED_BEYOND_BASELINE = new Set([
  // The parser's node classes, compiled into the interpreter: no file, no code to run.
  '_ast',
]);

/** -X importtime came with 3.7; 3.6 names each import it makes under -v instead. */
function importOptions(python: string): string[] {
  const probe = spawnSync(python, ['-c', 'import sys; print(sys.version_info >= (3, 7))'], {
    encoding: 'utf8',
  });
  return probe.stdout.trim() === 'True' ? ['-X', 'importtime'] : ['-v'];
}

function importedModules(stderr: string): string[] {
  const names: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.startsWith('import time:')) {
      const name = line.split('|')[2]?.trim() ?? '';
      if (name !== '' && name !== 'imported package') names.push(name);
    }
    const verbose = /^import '([^']+)' #/.exec(line);
    if (verbose?.[1] !== undefined) names.push(verbose[1]);
  }
  return names;
}

const pythons = [...installedPythons()];

describe.each(pythons)('Python %s', (_version, python) => {
  let harness: RunnerHarness;
  beforeEach(() => {
    harness = new RunnerHarness();
  });
  afterEach(() => {
    harness.cleanup();
  });

  it('print(1) through the runner imports nothing beyond `python3 -c pass` and _ast', async () => {
    const options = importOptions(python);
    const baseline = spawnSync(python, [...options, '-c', 'pass'], { encoding: 'utf8' });
    const allowed = new Set([...importedModules(baseline.stderr), ...ALLOWED_BEYOND_BASELINE]);
    const run = await harness.run('print(1)', { python, pythonOptions: options });
    expect(run.stdout).toBe('1\n');
    const imported = importedModules(run.stderr);
    // The check must see the imports at all: the interpreter's own come first.
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('a final value, a traceback and a /mnt/data file all still work', async () => {
    harness.addJobFile('d.txt', 'data');
    const value = await harness.run("open('/mnt/data/d.txt').read() + '!'", { python });
    expect(value.stderr).toBe('');
    expect(value.result).toBe('data!');
    const failed = await harness.run('x = 1\n{}[x]', { python });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/^Traceback[^]*File "main.py", line 2[^]*KeyError: 1\n$/);
    expect(failed.stderr).not.toContain('_piston_session');
    const listed = await harness.run('[1, {"a": None}]', { python, channel: 'stdout' });
    expect(listed.result).toEqual([1, { a: null }]);
  });
});
