import type { ExecutionOutcome } from './executionOutcome';

/**
 * Generation A reply, as Azure's code interpreter sends it. Every key is always present
 * (Semantic Kernel raises on a missing one), and result/stdout/stderr are repeated at the top
 * level because LlamaIndex's TypeScript tool reads them there.
 */
export function toAzureExecuteResponse(outcome: ExecutionOutcome) {
  return {
    $id: '1',
    properties: {
      $id: '2',
      status: outcome.succeeded ? 'Success' : 'Failure',
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      result: outcome.result,
      executionTimeInMilliseconds: outcome.executionTimeInMilliseconds,
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      language: outcome.language,
      version: outcome.version,
      compile: outcome.compile,
      stopReason: outcome.stopReason,
      stopMessage: outcome.stopMessage,
      resultNote: outcome.resultNote,
      ...(outcome.timeoutClamp !== undefined && { timeoutClamp: outcome.timeoutClamp }),
    },
    status: outcome.succeeded ? 'Success' : 'Failure',
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    result: outcome.result,
  };
}

export type AzureExecuteResponse = ReturnType<typeof toAzureExecuteResponse>;
