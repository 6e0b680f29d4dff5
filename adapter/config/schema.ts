import { z } from 'zod';

/** Environment variables that accept "true/false/1/0/yes/no" as booleans. */
const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => ['true', 'false', '1', '0', 'yes', 'no', ''].includes(value), {
    message: 'expected true or false',
  })
  .transform((value) => ['true', '1', 'yes'].includes(value));

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/**
 * Every setting the adapter reads, by environment variable name. Defaults suit a session
 * container: Piston on loopback port 2001, the adapter on 2000.
 */
export const environmentSchema = z.object({
  PORT: port.default(2000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** A command line that launches the engine; absent means attach to ENGINE_URL. */
  ENGINE_COMMAND: z.string().trim().optional(),
  /** Loopback port the launched engine binds; 0 picks a free one. */
  ENGINE_PORT: port.default(2001),
  /** Where the engine answers; defaults to 127.0.0.1:ENGINE_PORT. */
  ENGINE_URL: z.url({ protocol: /^https?$/ }).optional(),
  ENGINE_START_TIMEOUT_MS: positiveInt.default(60_000),
  ENGINE_HEALTH_INTERVAL_MS: positiveInt.default(2_000),
  /** Failed health checks in a row before the engine counts as wedged (restarted or reported). */
  ENGINE_HEALTH_FAILURES: positiveInt.default(3),
  /**
   * The uids a launched engine runs jobs as (Piston: runner users 1001-1500, set by the start
   * script). After the engine dies, every process of these uids is killed before a new engine
   * takes work. Unset: none (the local engine runs jobs as itself and records their groups).
   */
  ENGINE_JOB_UIDS: z
    .string()
    .trim()
    .regex(/^\d+-\d+$/, 'expected a range like 1001-1500')
    .transform((value) => {
      const [min = 0, max = 0] = value.split('-').map(Number);
      return { min, max };
    })
    .refine((range) => range.min >= 1 && range.min <= range.max, {
      message: 'expected min-max with 1 <= min <= max (uid 0 is never a runner)',
    })
    .optional(),
  ENGINE_RESTART_MAX_BACKOFF_MS: positiveInt.default(10_000),
  ENGINE_STOP_TIMEOUT_MS: positiveInt.default(5_000),
  ENGINE_WARMUP_LANGUAGES: commaList.default([]),
  /** Exit non-zero when the engine never becomes healthy, instead of serving degraded. */
  ENGINE_EXIT_ON_START_FAILURE: booleanFlag.default(false),
  /**
   * Added to the run timeout to get the deadline of an engine call: room for the compile
   * stage (Piston's default compile limit is 10 s) and the engine's own bookkeeping.
   */
  ENGINE_DEADLINE_MARGIN_MS: positiveInt.default(15_000),
  /** Largest JSON body the engine accepts (Piston: express.json limit of 100 kB). */
  ENGINE_BODY_LIMIT_BYTES: positiveInt.default(100 * 1024),

  /**
   * The limits of an engine the adapter attaches to (Piston's API does not tell them). Unset:
   * learned from the engine's first refusal. A launched engine's limits are the ones the
   * adapter hands it, so these do not apply to it.
   */
  ENGINE_RUN_TIMEOUT_MAX_MS: positiveInt.optional(),
  ENGINE_COMPILE_TIMEOUT_MAX_MS: positiveInt.optional(),
  ENGINE_OUTPUT_MAX_BYTES: positiveInt.optional(),
  ENGINE_RUN_MEMORY_MAX_BYTES: z.coerce.number().int().min(-1).optional(),
  /** Piston's own settings the adapter does not set itself, read to know a launched engine's limits. */
  PISTON_COMPILE_TIMEOUT: z.coerce.number().int().optional(),
  PISTON_RUN_MEMORY_LIMIT: z.coerce.number().int().optional(),

  DEFAULT_LANGUAGE: z.string().trim().min(1).default('python'),
  /** Run timeout used when a request gives none. */
  DEFAULT_TIMEOUT_SECONDS: positiveInt.default(60),
  /** Requests asking for more are clamped to this; Azure's interpreter allows 220 s. */
  MAX_TIMEOUT_SECONDS: positiveInt.default(220),
  /** Per-stream output limit handed to the engine (Piston's own default is 1024 bytes). */
  OUTPUT_MAX_BYTES: positiveInt.default(256 * 1024),
  /** Engine job slots; also the adapter's default concurrency. */
  MAX_CONCURRENT_JOBS: positiveInt.default(64),
  /** Executions the adapter lets reach the engine at once; default MAX_CONCURRENT_JOBS. */
  MAX_IN_FLIGHT: positiveInt.optional(),
  /** Executions that may wait for a slot; past that, 429 at once. Default MAX_IN_FLIGHT. */
  QUEUE_MAX: nonNegativeInt.optional(),
  /** How long an execution may wait for a slot before 503. */
  QUEUE_WAIT_MS: positiveInt.default(10_000),
  /** Time a client has to send its request headers (slow-loris bound). */
  HEADERS_TIMEOUT_MS: positiveInt.default(20_000),
  /** Time a client has to send its whole request, body included (large uploads). */
  REQUEST_TIMEOUT_MS: positiveInt.default(300_000),
  /** How long an idle client connection is kept open between requests. */
  KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(65_000),
  /** Largest request body the adapter reads. */
  BODY_LIMIT_BYTES: positiveInt.default(1024 * 1024),
  /** Let /api/v2/packages install and remove runtimes (off: sessions must not change them). */
  ALLOW_PACKAGE_MANAGEMENT: booleanFlag.default(false),
  SHUTDOWN_GRACE_MS: nonNegativeInt.default(10_000),
  /**
   * The container's session folder: uploads and what code writes (/mnt/data in the image).
   * Default: a folder of this process's own under the system temp folder.
   */
  FILES_DIR: z.string().trim().min(1).optional(),
  /**
   * Whether the engine's jobs run on this container's file system (pre-isolate Piston, the
   * local engine: session files are used in place at FILES_DIR) or cannot see it (isolate
   * Piston, an engine elsewhere: files travel in each request). Default: shared when the
   * adapter launches the engine, separate when it attaches to one.
   */
  ENGINE_FILESYSTEM: z.enum(['shared', 'separate']).optional(),
  FILE_MAX_BYTES: positiveInt.default(128 * 1024 * 1024),
  FILES_MAX_COUNT: positiveInt.default(100),
  /** Cap on FILES_DIR as a whole (uploads and what code wrote). */
  FILES_MAX_TOTAL_BYTES: positiveInt.default(512 * 1024 * 1024),
  /** Evaluate Python's last expression into `result`, as Azure's interpreter does. */
  PYTHON_RESULT: booleanFlag.default(true),
  /** How many recent executions GET /executions/{id} can return. */
  EXECUTIONS_KEPT: positiveInt.default(100),
  /** How many session identifiers GET / remembers. */
  IDENTIFIERS_TRACKED: positiveInt.default(1_000),
});

export type Environment = z.infer<typeof environmentSchema>;
