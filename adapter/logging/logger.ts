import pino, { type Logger } from 'pino';

export type { Logger };

/** One structured JSON line per event on stdout; the container runtime collects it. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: 'piston-session-adapter',
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
