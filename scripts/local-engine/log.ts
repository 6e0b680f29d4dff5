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
  /**
   * Written whatever PISTON_LOG_LEVEL says: the lines nobody may miss. "listening" is how a
   * launcher learns the port when it asked for port 0, and the sandbox warning is the point of
   * the log; a quieter level must silence neither.
   */
  always(level: LogLevelName, msg: string, fields?: LogFields): void;
}

export function isLogLevelName(value: string): value is LogLevelName {
  return Object.hasOwn(LEVEL_NUMBERS, value);
}

export function createLog(threshold: LogLevelName): Log {
  const write = (level: LogLevelName, msg: string, fields: LogFields = {}): void => {
    if (LEVEL_NUMBERS[level] >= LEVEL_NUMBERS[threshold]) writeLine(level, msg, fields);
  };
  const writeLine = (level: LogLevelName, msg: string, fields: LogFields): void => {
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
    always: (level, msg, fields = {}) => writeLine(level, msg, fields),
  };
}
