import { classifyEngineFailure, EngineError } from '../../adapter/piston/engineError';

const withCode = (code: string, message = `connect ${code}`) =>
  Object.assign(new Error(message), { code });

describe('classifyEngineFailure', () => {
  test.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])(
    '%s: the engine is unreachable',
    (code) => {
      const cause = withCode(code);
      const error = classifyEngineFailure(cause, undefined);
      expect(error.kind).toBe('unreachable');
      expect(error.message).toContain(code);
      expect(error.details.cause).toBe(cause);
    },
  );

  test.each(['ECONNRESET', 'EPIPE'])('%s: the engine dropped the connection', (code) => {
    const error = classifyEngineFailure(withCode(code, 'socket hang up'), undefined);
    expect(error.kind).toBe('connection_lost');
    expect(error.message).toContain('socket hang up');
  });

  test.each(['ETIMEDOUT'])('%s: the engine did not answer in time', (code) => {
    const error = classifyEngineFailure(withCode(code), undefined);
    expect(error.kind).toBe('timeout');
    expect(error.message).toContain(code);
  });

  test('anything else is a lost connection, keeping its message and cause', () => {
    const cause = new Error('something odd');
    const error = classifyEngineFailure(cause, undefined);
    expect(error).toBeInstanceOf(EngineError);
    expect(error.kind).toBe('connection_lost');
    expect(error.message).toBe('engine request failed: something odd');
    expect(error.details.cause).toBe(cause);
  });

  test('a thrown non-Error is described, not lost', () => {
    expect(classifyEngineFailure('plain string', undefined).message).toContain('plain string');
    expect(classifyEngineFailure(null, undefined).kind).toBe('connection_lost');
  });

  test('an EngineError is kept as it is', () => {
    const original = new EngineError('bad_response', 'not JSON');
    expect(classifyEngineFailure(original, undefined)).toBe(original);
    const aborted = AbortSignal.abort(new Error('client left'));
    expect(classifyEngineFailure(original, aborted)).toBe(original);
  });

  test('an aborted signal makes the failure "aborted", whatever the error says', () => {
    const reason = new Error('client left');
    const error = classifyEngineFailure(withCode('ECONNRESET'), AbortSignal.abort(reason));
    expect(error.kind).toBe('aborted');
    expect(error.details.cause).toBe(reason);
  });

  test('an aborted signal whose reason is an EngineError gives that reason', () => {
    const lost = new EngineError('connection_lost', 'the engine was declared lost');
    const controller = new AbortController();
    controller.abort(lost);
    expect(classifyEngineFailure(withCode('ECONNRESET'), controller.signal)).toBe(lost);
  });

  test('a signal not yet aborted changes nothing', () => {
    const error = classifyEngineFailure(withCode('ECONNREFUSED'), new AbortController().signal);
    expect(error.kind).toBe('unreachable');
  });
});
