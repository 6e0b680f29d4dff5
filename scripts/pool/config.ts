/**
 * The emulator's own settings (POOL_*), validated with zod. Everything else in the environment
 * belongs to the sessions: each adapter it starts reads the adapter's variables from it.
 */
import { z } from 'zod';

export interface PoolConfig {
  host: string;
  /** 0 picks a free port; the "pool listening" log line says which. */
  port: number;
  /** Most sessions allocated to identifiers at once; past it, 429. */
  maxSessions: number;
  /** Started sessions kept waiting for a new identifier. */
  readySessions: number;
  /** An allocated session idle this long is stopped. */
  cooldownMs: number;
  /** When set, every request but /.pool/status needs `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** Named in stopSession's answer, as Azure names the pool there. */
  name: string;
  /** How long a session's adapter has to open its port before the start counts as failed. */
  sessionStartTimeoutMs: number;
  /** SIGTERM to SIGKILL delay when a session is stopped. */
  sessionStopTimeoutMs: number;
  logLevel: string;
  /**
   * When set, each session runs this command (a container of the image, say) instead of the
   * built adapter: `{port}` becomes the loopback port it must listen on, `{id}` the session's
   * name. Split on spaces like ENGINE_COMMAND (escape a space with a backslash).
   */
  sessionCommand: string | undefined;
}

export class PoolConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid pool configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PoolConfigError';
  }
}

/** Placeholders POOL_SESSION_COMMAND may hold. */
export const SESSION_PORT_PLACEHOLDER = '{port}';
export const SESSION_ID_PLACEHOLDER = '{id}';

const positiveInt = z.coerce.number().int().positive();

const schema = z.object({
  POOL_HOST: z.string().trim().min(1).default('127.0.0.1'),
  POOL_PORT: z.coerce.number().int().min(0).max(65535).default(2100),
  POOL_MAX_SESSIONS: positiveInt.default(10),
  POOL_READY_SESSIONS: z.coerce.number().int().min(0).default(1),
  // Fractions allowed: tests and demos need cooldowns far below Azure's 300 s minimum.
  POOL_COOLDOWN_SECONDS: z.coerce.number().positive().max(86_400).default(300),
  POOL_TOKEN: z.string().trim().min(1).optional(),
  POOL_NAME: z
    .string()
    .trim()
    .regex(/^[a-z0-9-]{1,63}$/, 'lower-case letters, digits and hyphens, up to 63')
    .default('local-pool'),
  POOL_SESSION_START_TIMEOUT_MS: positiveInt.default(90_000),
  POOL_SESSION_STOP_TIMEOUT_MS: positiveInt.default(15_000),
  POOL_SESSION_COMMAND: z
    .string()
    .trim()
    .refine((command) => command.includes(SESSION_PORT_PLACEHOLDER), {
      message: `must contain ${SESSION_PORT_PLACEHOLDER}, the port the session listens on`,
    })
    .optional(),
  POOL_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
});

/** Reads POOL_* from `env`; throws PoolConfigError naming each bad variable. */
export function loadPoolConfig(env: NodeJS.ProcessEnv = process.env): PoolConfig {
  // Empty means unset, as in the adapter's own configuration.
  const present = Object.fromEntries(
    Object.entries(env).filter(
      ([name, value]) => name.startsWith('POOL_') && value !== undefined && value !== '',
    ),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new PoolConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  // Azure rejects a pool whose ready sessions are not below its maximum; here the ready
  // sessions share the cap, so more of them than the cap could never all exist.
  if (e.POOL_READY_SESSIONS > e.POOL_MAX_SESSIONS) {
    throw new PoolConfigError([
      `POOL_READY_SESSIONS=${e.POOL_READY_SESSIONS}: must not exceed POOL_MAX_SESSIONS=${e.POOL_MAX_SESSIONS}`,
    ]);
  }
  return {
    host: e.POOL_HOST,
    port: e.POOL_PORT,
    maxSessions: e.POOL_MAX_SESSIONS,
    readySessions: e.POOL_READY_SESSIONS,
    cooldownMs: Math.round(e.POOL_COOLDOWN_SECONDS * 1000),
    token: e.POOL_TOKEN,
    name: e.POOL_NAME,
    sessionStartTimeoutMs: e.POOL_SESSION_START_TIMEOUT_MS,
    sessionStopTimeoutMs: e.POOL_SESSION_STOP_TIMEOUT_MS,
    logLevel: e.POOL_LOG_LEVEL,
    sessionCommand: e.POOL_SESSION_COMMAND,
  };
}
