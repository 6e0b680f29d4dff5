/**
 * One JSON object per line, pino-shaped (numeric `level`, `time`, `pid`, `msg`), so whoever
 * supervises the engine can read its lines the way it reads the adapter's. Errors that stop the
 * engine go to stderr, everything else to stdout.
 */
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_NUMBERS: Record<LogLevelName, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export type LogFields = Record<string, unknown>;

export interface Log {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function isLogLevelName(value: string): value is LogLevelName {
  return Object.hasOwn(LEVEL_NUMBERS, value);
}

export function createLog(threshold: LogLevelName): Log {
  const write = (level: LogLevelName, msg: string, fields: LogFields = {}): void => {
    if (LEVEL_NUMBERS[level] < LEVEL_NUMBERS[threshold]) return;
    const line = JSON.stringify({
      level: LEVEL_NUMBERS[level],
      time: new Date().toISOString(),
      pid: process.pid,
      name: 'local-engine',
      msg,
      ...fields,
    });
    (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}
