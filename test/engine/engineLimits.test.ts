import { EngineLimits, parseLimitRefusal } from '../../adapter/engine/engineLimits';
import { loadFixture } from '../support/fixtures';

const messageOf = (name: string) => (loadFixture(name).body as { message: string }).message;

describe('parseLimitRefusal', () => {
  test.each([
    ['python_run_timeout_60000_default_config', 'runTimeoutMs', 3000],
    ['error_run_timeout_above_max', 'runTimeoutMs', 3000],
    ['error_compile_timeout_above_max', 'compileTimeoutMs', 10000],
    ['error_run_memory_limit_above_configured', 'runMemoryBytes', 100000000],
  ])('reads the limit Piston names in %s', (fixture, name, value) => {
    expect(parseLimitRefusal(messageOf(fixture))).toEqual({ name, value });
  });

  test('any other refusal names no limit', () => {
    expect(parseLimitRefusal(messageOf('error_run_timeout_negative'))).toBeNull();
    expect(parseLimitRefusal('runtime is unknown')).toBeNull();
  });
});

describe('EngineLimits', () => {
  test('a launched engine has the limits it was handed', () => {
    const limits = EngineLimits.launched({
      runTimeoutMs: 220_000,
      compileTimeoutMs: 10_000,
      outputMaxBytes: 262_144,
      runMemoryBytes: -1,
    });
    expect(limits.runTimeoutCapMs()).toBe(220_000);
    expect(limits.get('outputMaxBytes')).toEqual({ value: 262_144, source: 'launched' });
  });

  test('an attached engine knows what is configured, learns the rest, and can forget it', () => {
    const limits = EngineLimits.attached({ outputMaxBytes: 1024 });
    expect(limits.runTimeoutCapMs()).toBeNull();
    expect(limits.get('runTimeoutMs')).toEqual({ value: null, source: 'unknown' });
    expect(limits.get('outputMaxBytes')).toEqual({ value: 1024, source: 'configured' });

    expect(limits.learnFromRefusal(messageOf('python_run_timeout_60000_default_config'))).toEqual({
      name: 'runTimeoutMs',
      value: 3000,
    });
    expect(limits.runTimeoutCapMs()).toBe(3000);
    expect(limits.snapshot().runTimeoutMs).toEqual({ value: 3000, source: 'learned' });

    limits.forgetLearned();
    expect(limits.runTimeoutCapMs()).toBeNull();
  });

  test('a limit of 0 or less is no cap', () => {
    expect(EngineLimits.attached({ runTimeoutMs: 0 }).runTimeoutCapMs()).toBeNull();
  });
});
