import { ConfigError, loadConfig } from '../../adapter/config/config';

describe('admission gate and server timeout settings', () => {
  test('defaults: the gate as wide as the engine job slots, a queue as long, 10 s of waiting', () => {
    expect(loadConfig({}).gate).toEqual({ maxInFlight: 64, queueMax: 64, queueWaitMs: 10_000 });
    expect(loadConfig({ MAX_CONCURRENT_JOBS: '8' }).gate).toEqual({
      maxInFlight: 8,
      queueMax: 8,
      queueWaitMs: 10_000,
    });
  });

  test('each can be set; QUEUE_MAX=0 means no queue', () => {
    const config = loadConfig({ MAX_IN_FLIGHT: '4', QUEUE_MAX: '0', QUEUE_WAIT_MS: '250' });
    expect(config.gate).toEqual({ maxInFlight: 4, queueMax: 0, queueWaitMs: 250 });
  });

  test('server timeouts default to generous bounds on slow clients', () => {
    expect(loadConfig({}).server).toEqual({
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 300_000,
      keepAliveTimeoutMs: 65_000,
    });
  });

  test.each([
    ['MAX_IN_FLIGHT', '0'],
    ['QUEUE_MAX', '-1'],
    ['QUEUE_WAIT_MS', 'soon'],
    ['HEADERS_TIMEOUT_MS', '0'],
    ['KEEP_ALIVE_TIMEOUT_MS', '1.5'],
  ])('%s=%s is refused, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}="${value}`));
  });

  test('a headers timeout longer than the request timeout is refused', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' })).toThrow(
      /HEADERS_TIMEOUT_MS=5000: must not exceed REQUEST_TIMEOUT_MS=1000/,
    );
  });
});
