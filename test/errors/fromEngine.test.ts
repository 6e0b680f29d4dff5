import { errorFromEngine } from '../../adapter/errors/fromEngine';
import { EngineError } from '../../adapter/piston/engineError';

describe('errorFromEngine', () => {
  test.each([
    ['unreachable', 503, 'engine_unavailable', 'adapter'],
    ['connection_lost', 502, 'engine_connection_lost', 'adapter'],
    ['aborted', 502, 'engine_connection_lost', 'adapter'],
    ['timeout', 504, 'engine_timeout', 'adapter'],
    ['bad_response', 502, 'engine_bad_response', 'adapter'],
  ] as const)('%s is %d %s, answered by the %s', (kind, status, code, source) => {
    const error = errorFromEngine(new EngineError(kind, 'what happened'));
    expect(error).toMatchObject({ status, code, source });
    expect(error.message).toContain('what happened');
    expect(error.toBody()).toEqual({ error: { code, message: error.message, source } });
  });

  test('unreachable says the engine is not answering, and to retry', () => {
    const error = errorFromEngine(new EngineError('unreachable', 'ECONNREFUSED'));
    expect(error.message).toBe('the engine is not answering: ECONNREFUSED');
    expect(error.headers).toEqual({ 'retry-after': '2' });
  });

  test.each([400, 404, 413, 499])(
    'the engine refusing with %d is 400 engine_rejected_request, from the engine',
    (engineStatus) => {
      const error = errorFromEngine(
        new EngineError('bad_status', 'runtime is unknown', { status: engineStatus }),
      );
      expect(error).toMatchObject({
        status: 400,
        code: 'engine_rejected_request',
        source: 'engine',
      });
      expect(error.message).toBe('the engine rejected the request: runtime is unknown');
      expect(error.toBody().error).toMatchObject({ engineStatus });
    },
  );

  test.each([500, 502, 503])(
    'the engine failing with %d is 502 engine_error, from the engine',
    (engineStatus) => {
      const error = errorFromEngine(
        new EngineError('bad_status', 'boom', { status: engineStatus }),
      );
      expect(error).toMatchObject({ status: 502, code: 'engine_error', source: 'engine' });
      expect(error.message).toBe(`the engine failed with status ${engineStatus}: boom`);
      expect(error.toBody().error).toMatchObject({ engineStatus });
    },
  );

  test('a bad status without its number counts as 502', () => {
    const error = errorFromEngine(new EngineError('bad_status', 'no status'));
    expect(error).toMatchObject({ status: 502, code: 'engine_error' });
    expect(error.toBody().error).toMatchObject({ engineStatus: 502 });
  });

  test('no engine failure leaks a stack into the answer', () => {
    const body = JSON.stringify(errorFromEngine(new EngineError('timeout', 'slow')).toBody());
    expect(body).not.toContain('at ');
  });
});
