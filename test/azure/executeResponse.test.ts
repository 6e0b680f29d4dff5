import { toAzureExecuteResponse } from '../../adapter/azure/executeResponse';
import { sampleOutcome } from '../support/outcomes';

const outcome = sampleOutcome;

describe('toAzureExecuteResponse (generation A, contract section 3)', () => {
  test('a success in the shape clients parse, $id 1 and 2', () => {
    expect(toAzureExecuteResponse(outcome())).toEqual({
      $id: '1',
      properties: {
        $id: '2',
        status: 'Success',
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
      },
      status: 'Success',
      stdout: 'hello\n',
      stderr: '',
      result: 2,
    });
  });

  test('a failure is Failure, in properties and at the top level', () => {
    const response = toAzureExecuteResponse(
      outcome({
        succeeded: false,
        stdout: '',
        stderr: 'Traceback\n',
        result: '',
        exitCode: 1,
        stopReason: 'timeout',
        stopMessage: 'run stage exceeded its time limit',
      }),
    );
    expect(response.status).toBe('Failure');
    expect(response.properties).toMatchObject({
      status: 'Failure',
      stderr: 'Traceback\n',
      exitCode: 1,
      stopReason: 'timeout',
      stopMessage: 'run stage exceeded its time limit',
    });
    expect(response.stderr).toBe('Traceback\n');
  });

  test('every key Semantic Kernel reads is present even when empty, and survives JSON', () => {
    const sent = JSON.parse(
      JSON.stringify(toAzureExecuteResponse(outcome({ stdout: '', result: '' }))),
    ) as Record<string, Record<string, unknown>>;
    for (const key of ['status', 'result', 'stdout', 'stderr', 'executionTimeInMilliseconds']) {
      expect(sent['properties']).toHaveProperty(key);
    }
    // LlamaIndex TypeScript reads these from the top level.
    for (const key of ['status', 'result', 'stdout', 'stderr']) expect(sent).toHaveProperty(key);
    // null values are sent as null, not dropped.
    expect(sent['properties']?.['signal']).toBeNull();
    expect(sent['properties']?.['compile']).toBeNull();
  });

  test('a JSON-typed or image result is passed through as it is', () => {
    const image = { type: 'image', format: 'png', base64_data: 'iVBORw0KGgo=' };
    const response = toAzureExecuteResponse(outcome({ result: image }));
    expect(response.properties.result).toEqual(image);
    expect(response.result).toEqual(image);
  });

  test('the compile stage is reported beside the run', () => {
    const compile = { stdout: '', stderr: 'error: x', exitCode: 1, signal: null };
    expect(toAzureExecuteResponse(outcome({ compile })).properties.compile).toEqual(compile);
  });
});
