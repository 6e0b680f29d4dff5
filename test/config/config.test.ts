import { ConfigError, loadConfig } from '../../adapter/config/config';

describe('loadConfig', () => {
  test('defaults suit a session container: 2000 outside, engine on loopback 2001', () => {
    const config = loadConfig({});
    expect(config.port).toBe(2000);
    expect(config.engine.url).toBe('http://127.0.0.1:2001');
    expect(config.engine.command).toBeUndefined();
    expect(config.defaultLanguage).toBe('python');
    expect(config.allowPackageManagement).toBe(false);
  });

  test('ENGINE_URL wins over ENGINE_PORT; a trailing slash is dropped', () => {
    expect(loadConfig({ ENGINE_PORT: '3001' }).engine.url).toBe('http://127.0.0.1:3001');
    expect(loadConfig({ ENGINE_URL: 'http://10.0.0.5:9000/' }).engine.url).toBe(
      'http://10.0.0.5:9000',
    );
  });

  test('empty variables count as unset', () => {
    expect(loadConfig({ PORT: '', ENGINE_COMMAND: '' }).port).toBe(2000);
  });

  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['ENGINE_URL', 'not a url'],
    ['ENGINE_URL', 'ftp://x'],
    ['ALLOW_PACKAGE_MANAGEMENT', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['MAX_TIMEOUT_SECONDS', '-1'],
    ['BODY_LIMIT_BYTES', '1.5'],
  ])('%s=%s stops the start with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}="${value}`));
  });

  test('a default timeout above the maximum is refused', () => {
    expect(() =>
      loadConfig({ DEFAULT_TIMEOUT_SECONDS: '300', MAX_TIMEOUT_SECONDS: '220' }),
    ).toThrow(/DEFAULT_TIMEOUT_SECONDS/);
  });

  test.each([
    ['true', true],
    ['1', true],
    ['YES', true],
    ['false', false],
    ['0', false],
  ])('boolean flag %s reads as %s', (value, expected) => {
    expect(loadConfig({ ALLOW_PACKAGE_MANAGEMENT: value }).allowPackageManagement).toBe(expected);
  });

  test('warm-up languages are a comma list', () => {
    expect(
      loadConfig({ ENGINE_WARMUP_LANGUAGES: 'python, bash,,' }).engine.warmupLanguages,
    ).toEqual(['python', 'bash']);
  });
});
