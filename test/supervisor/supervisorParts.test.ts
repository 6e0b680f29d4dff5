import { describeExit } from '../../adapter/supervisor/exitReason';
import { OutputTail } from '../../adapter/supervisor/outputTail';
import { RestartPolicy } from '../../adapter/supervisor/restartPolicy';

describe('RestartPolicy', () => {
  test('doubles per consecutive failure, up to the cap', () => {
    const policy = new RestartPolicy(250, 3_000, 30_000);
    const delays = [1, 2, 3, 4, 5, 6].map(() => policy.nextDelay(null));
    expect(delays).toEqual([250, 500, 1000, 2000, 3000, 3000]);
  });

  test('a run that stayed ready long enough starts the backoff over', () => {
    const policy = new RestartPolicy(100, 10_000, 1_000);
    policy.nextDelay(null);
    policy.nextDelay(10);
    expect(policy.nextDelay(999)).toBe(400);
    expect(policy.nextDelay(1_000)).toBe(100);
  });

  test('stays finite however long it fails', () => {
    const policy = new RestartPolicy(1, 5_000, 1_000);
    for (let i = 0; i < 2_000; i += 1) policy.nextDelay(null);
    expect(policy.nextDelay(null)).toBe(5_000);
  });
});

describe('OutputTail', () => {
  test('keeps the last lines, newest last, and cuts long ones', () => {
    const tail = new OutputTail(3, 5);
    for (const line of ['a', 'b', 'c', 'd', '0123456789']) tail.push(line);
    expect(tail.lines()).toEqual(['c', 'd', '01234…']);
  });
});

describe('describeExit', () => {
  const noOutput = { stderr: [], stdout: [] };

  test('code, signal or spawn error, with the last stderr lines', () => {
    expect(
      describeExit(
        { code: 1, signal: null, error: null },
        { stderr: ['', 'Combined cgroup v1+v2 mode is not supported'], stdout: ['hello'] },
      ),
    ).toBe('engine exited with code 1; last stderr: Combined cgroup v1+v2 mode is not supported');
    expect(describeExit({ code: null, signal: 'SIGKILL', error: null }, noOutput)).toBe(
      'engine was killed by SIGKILL; it wrote nothing to stderr or stdout',
    );
    expect(describeExit({ code: null, signal: null, error: 'spawn x ENOENT' }, noOutput)).toBe(
      'engine command could not be started: spawn x ENOENT; it wrote nothing to stderr or stdout',
    );
  });

  test('falls back to stdout, and keeps only the last five lines', () => {
    const stdout = ['1', '2', '3', '4', '5', '6'];
    expect(describeExit({ code: 2, signal: null, error: null }, { stderr: [], stdout })).toBe(
      'engine exited with code 2; no stderr; last stdout: 2 | 3 | 4 | 5 | 6',
    );
  });
});
