import { toExecutionsResponse } from '../../adapter/azure/executionsResponse';
import { sampleOutcome } from '../support/outcomes';

const outcome = sampleOutcome;

describe('toExecutionsResponse (generation B, contract section 3)', () => {
  test('a success: flat, Succeeded, output under result', () => {
    expect(toExecutionsResponse({ id: 'e-1', identifier: 'S1', outcome: outcome() })).toEqual({
      id: 'e-1',
      identifier: 'S1',
      executionType: 'Synchronous',
      status: 'Succeeded',
      result: {
        stdout: 'hello\n',
        stderr: '',
        executionResult: 2,
        executionTimeInMilliseconds: 33,
      },
      exitCode: 0,
      signal: null,
      language: 'python',
      version: '3.12.0',
      compile: null,
      stopReason: null,
      stopMessage: null,
      resultNote: null,
    });
  });

  test('a failure is Failed, with its reason', () => {
    const response = toExecutionsResponse({
      id: 'e-2',
      identifier: 'S1',
      outcome: outcome({
        succeeded: false,
        stderr: 'boom',
        exitCode: null,
        signal: 'SIGKILL',
        stopReason: 'outputLimit',
        stopMessage: 'too much output',
      }),
    });
    expect(response).toMatchObject({
      status: 'Failed',
      result: { stderr: 'boom' },
      exitCode: null,
      signal: 'SIGKILL',
      stopReason: 'outputLimit',
      stopMessage: 'too much output',
    });
  });

  test('no identifier is sent as an empty string, never dropped', () => {
    const sent = JSON.parse(
      JSON.stringify(
        toExecutionsResponse({ id: 'e-3', identifier: undefined, outcome: outcome() }),
      ),
    ) as Record<string, unknown>;
    expect(sent['identifier']).toBe('');
  });

  test('every key is present even when empty, and nothing of generation A leaks in', () => {
    const response = toExecutionsResponse({
      id: 'e-4',
      identifier: 'S',
      outcome: outcome({ stdout: '', result: '' }),
    });
    expect(Object.keys(response.result).sort()).toEqual(
      ['executionResult', 'executionTimeInMilliseconds', 'stderr', 'stdout'].sort(),
    );
    expect(response).not.toHaveProperty('$id');
    expect(response).not.toHaveProperty('properties');
    expect(response.result.stdout).toBe('');
  });
});
