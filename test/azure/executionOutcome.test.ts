import { outcomeFromPiston } from '../../adapter/azure/executionOutcome';
import type { PistonExecuteResponse } from '../../adapter/piston/types';
import { loadFixture } from '../support/fixtures';

const context = { elapsedMs: 100, runTimeoutMs: 3000, outputMaxBytes: 1024 };
const fixtureBody = (name: string) => loadFixture(name).body as PistonExecuteResponse;

describe('outcomeFromPiston', () => {
  test('v3 SIGKILL at the time limit is a timeout, using the measured wall time', () => {
    const outcome = outcomeFromPiston(fixtureBody('python_infinite_loop'), {
      ...context,
      elapsedMs: 3021,
    });
    expect(outcome).toMatchObject({ succeeded: false, stopReason: 'timeout', signal: 'SIGKILL' });
    expect(outcome.stopMessage).toContain('3000 ms');
  });

  test('v3 SIGKILL well before the time limit is attributed to the output limit', () => {
    const outcome = outcomeFromPiston(fixtureBody('python_output_1025'), context);
    expect(outcome.stopReason).toBe('outputLimit');
    expect(outcome.stopMessage).toContain('1024 bytes');
  });

  test('a crash by another signal is reported as that signal', () => {
    const outcome = outcomeFromPiston(
      {
        language: 'c',
        version: '12.2.0',
        run: { stdout: '', stderr: '', output: '', code: null, signal: 'SIGSEGV' },
      },
      context,
    );
    expect(outcome).toMatchObject({ stopReason: 'signal', exitCode: null, succeeded: false });
    expect(outcome.stopMessage).toContain('SIGSEGV');
  });

  test('success needs exit 0 and no signal from compile and run', () => {
    expect(outcomeFromPiston(fixtureBody('c_hello'), context).succeeded).toBe(true);
    expect(outcomeFromPiston(fixtureBody('c_compile_error'), context).succeeded).toBe(false);
    expect(outcomeFromPiston(fixtureBody('python_exception'), context).succeeded).toBe(false);
  });

  test('master wall times are preferred over the measured time', () => {
    const outcome = outcomeFromPiston(
      {
        language: 'c',
        version: '12.2.0',
        compile: { stdout: '', stderr: '', output: '', code: 0, signal: null, wall_time: 70 },
        run: { stdout: 'ok', stderr: '', output: 'ok', code: 0, signal: null, wall_time: 5 },
      },
      context,
    );
    expect(outcome.executionTimeInMilliseconds).toBe(75);
    expect(outcome.stdout).toBe('ok');
  });

  test('master XX (internal engine error) is surfaced as engineError', () => {
    const outcome = outcomeFromPiston(
      {
        language: 'python',
        version: '3.12.0',
        run: {
          stdout: '',
          stderr: '',
          output: '',
          code: null,
          signal: null,
          status: 'XX',
          message: 'box failed',
        },
      },
      context,
    );
    expect(outcome).toMatchObject({ stopReason: 'engineError', stopMessage: 'box failed' });
  });
});
