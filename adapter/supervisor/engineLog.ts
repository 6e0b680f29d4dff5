/**
 * The engine's output as entries of the adapter's log: level, module, message, no escape
 * codes. Two engines write two formats:
 * - Piston (logplease): `<ISO time> [LEVEL] <module>: <message>`, coloured with ANSI escape
 *   codes, LEVEL one of DEBUG, INFO, WARN, ERROR; an error adds lines of its own after it
 *   (piston-stdout-sample.log). Its per-job lines (module `job/<uuid>`, three per job at INFO)
 *   go to debug: at info they cost the adapter CPU on every job and bury everything else.
 * - The local engine: one pino-shaped JSON object per line (numeric level, msg, fields).
 * Anything else (a crash's stack trace, a shell's error) is kept as a plain line.
 */

export type EngineLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface EngineLogEntry {
  level: EngineLogLevel;
  /** The engine's module (Piston: `api/v2`, `job/<uuid>`, ...); null when it names none. */
  module: string | null;
  message: string;
  /** The engine's own time stamp, when it wrote one. */
  time: string | null;
  /** Fields of a structured (JSON) line, beyond level, time and message. */
  fields: Record<string, unknown>;
}

// CSI sequences (colours, cursor) and the two-byte escapes: all a terminal would hide.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]/g;

const PISTON_LINE = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\s+\[(DEBUG|INFO|WARN|ERROR)\]\s+(\S+?):\s?(.*)$/;

const PISTON_LEVELS: Record<string, EngineLogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Pino's numeric levels, as the local engine writes them. */
function levelOfNumber(level: unknown): EngineLogLevel {
  const n = typeof level === 'number' ? level : 30;
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  return 'debug';
}

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** One line of engine output as a log entry; `stream` decides a plain line's level. */
export function parseEngineLine(raw: string, stream: 'stdout' | 'stderr'): EngineLogEntry {
  const line = stripAnsi(raw);
  const piston = PISTON_LINE.exec(line);
  if (piston) {
    const [, time = null, levelName = 'INFO', module = null, message = ''] = piston;
    let level = PISTON_LEVELS[levelName] ?? 'info';
    if (module?.startsWith('job/') && (level === 'info' || level === 'debug')) level = 'debug';
    return { level, module, message, time, fields: {} };
  }
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.msg === 'string') {
        const { level, time, msg, name, ...rest } = parsed;
        // The engine's own pid and host are the relay's enginePid; the rest are its fields.
        const fields = Object.fromEntries(
          Object.entries(rest).filter(([key]) => key !== 'pid' && key !== 'hostname'),
        );
        return {
          level: levelOfNumber(level),
          module: typeof name === 'string' ? name : null,
          message: msg,
          time: typeof time === 'string' ? time : null,
          fields,
        };
      }
    } catch {
      // Not JSON after all: a plain line.
    }
  }
  return {
    level: stream === 'stderr' ? 'warn' : 'info',
    module: null,
    message: line,
    time: null,
    fields: {},
  };
}

const JOB_ERROR = /^Error executing job: ([0-9a-f-]{36}):$/;

/**
 * Follows Piston's job errors across lines: `Error executing job: <uuid>:` names the job, and
 * the reason is the next line (api/src/api/v2.js logs `...${job.uuid}:\n${error}`).
 */
export class JobErrorReader {
  private pendingUuid: string | null = null;

  /** The job and its reason, once both lines have been seen. */
  read(entry: EngineLogEntry): { uuid: string; reason: string } | null {
    const pending = this.pendingUuid;
    this.pendingUuid = null;
    // The local engine logs a failed job on one line: {"msg": "job failed", "error": ...}.
    if (entry.message === 'job failed' && typeof entry.fields.error === 'string') {
      const job = entry.fields.job;
      return { uuid: typeof job === 'string' ? job : 'unnamed', reason: entry.fields.error };
    }
    if (entry.module !== null) {
      const match = JOB_ERROR.exec(entry.message);
      if (match?.[1] !== undefined) this.pendingUuid = match[1];
      return null;
    }
    if (pending === null || entry.message.trim() === '') return null;
    return { uuid: pending, reason: entry.message.trim() };
  }
}
