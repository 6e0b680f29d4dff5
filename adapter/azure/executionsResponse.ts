import type { ExecutionOutcome } from './executionOutcome';

/**
 * Generation B reply (`POST /executions`, Semantic Kernel .NET and newer API versions): flat,
 * with `status` Succeeded or Failed and the program's output under `result`. Every key is
 * always present. The fields after `result` are ours; clients ignore keys they do not know.
 */
export function toExecutionsResponse(execution: {
  id: string;
  identifier: string | undefined;
  outcome: ExecutionOutcome;
}) {
  const { outcome } = execution;
  return {
    id: execution.id,
    identifier: execution.identifier ?? '',
    executionType: 'Synchronous',
    status: outcome.succeeded ? 'Succeeded' : 'Failed',
    result: {
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      executionResult: outcome.result,
      executionTimeInMilliseconds: outcome.executionTimeInMilliseconds,
    },
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    language: outcome.language,
    version: outcome.version,
    compile: outcome.compile,
    stopReason: outcome.stopReason,
    stopMessage: outcome.stopMessage,
    resultNote: outcome.resultNote,
    ...(outcome.timeoutClamp !== undefined && { timeoutClamp: outcome.timeoutClamp }),
  };
}

export type ExecutionsResponse = ReturnType<typeof toExecutionsResponse>;
