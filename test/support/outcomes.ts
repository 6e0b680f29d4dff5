import type { ExecutionOutcome } from '../../adapter/azure/executionOutcome';

/** A finished Python execution (`print('hello')` then `1 + 1`), with what a test changes. */
export function sampleOutcome(patch: Partial<ExecutionOutcome> = {}): ExecutionOutcome {
  return {
    succeeded: true,
    stdout: 'hello\n',
    stderr: '',
    result: 2,
    executionTimeInMilliseconds: 33,
    exitCode: 0,
    signal: null,
    language: 'python',
    version: '3.12.0',
    compile: null,
    stopReason: null,
    stopMessage: null,
    resultNote: null,
    ...patch,
  };
}
