import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { PISTON_DEFAULT_LIMITS, type LimitName } from '../engine/engineLimits';
import { environmentSchema, type Environment } from './schema';

export interface AdapterConfig {
  port: number;
  host: string;
  logLevel: string;
  engine: {
    /** Command line to launch, or undefined in attach mode. */
    command: string | undefined;
    port: number;
    url: string;
    startTimeoutMs: number;
    healthIntervalMs: number;
    /** Consecutive failed health checks before the engine is wedged. */
    healthFailures: number;
    /** A launched engine's runner uids, whose processes die with it; null: none. */
    jobUids: { min: number; max: number } | null;
    restartMaxBackoffMs: number;
    stopTimeoutMs: number;
    warmupLanguages: string[];
    exitOnStartFailure: boolean;
    bodyLimitBytes: number;
    deadlineMarginMs: number;
    /** The limits handed to a launched engine (see supervisedEngine's engine environment). */
    launchedLimits: Record<LimitName, number>;
    /** What the operator says an attached engine's limits are (ENGINE_*_MAX_*). */
    attachedLimits: Partial<Record<LimitName, number>>;
  };
  defaultLanguage: string;
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  outputMaxBytes: number;
  maxConcurrentJobs: number;
  /** The admission gate in front of the engine (see execution/admissionGate.ts). */
  gate: {
    maxInFlight: number;
    queueMax: number;
    queueWaitMs: number;
  };
  /** Bounds on slow or stalled clients, applied to the ingress http.Server. */
  server: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  bodyLimitBytes: number;
  allowPackageManagement: boolean;
  shutdownGraceMs: number;
  identifiersTracked: number;
  files: {
    /** The container's session folder (absolute): /mnt/data in the image. */
    dir: string;
    /** No FILES_DIR given: the folder is this process's own, removed when it stops. */
    dirIsPrivate: boolean;
    maxFileBytes: number;
    maxCount: number;
    maxTotalBytes: number;
    /** shared: jobs see FILES_DIR in place; separate: files travel in each request. */
    engineFilesystem: 'shared' | 'separate';
  };
  pythonResult: boolean;
  executionsKept: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AdapterConfig {
  // Empty strings mean "unset", as they do for most shells' `VAR= cmd`.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.DEFAULT_TIMEOUT_SECONDS > e.MAX_TIMEOUT_SECONDS) {
    throw new ConfigError([
      `DEFAULT_TIMEOUT_SECONDS=${e.DEFAULT_TIMEOUT_SECONDS}: must not exceed MAX_TIMEOUT_SECONDS=${e.MAX_TIMEOUT_SECONDS}`,
    ]);
  }
  if (e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS) {
    // node:http refuses a request timeout shorter than the headers timeout.
    throw new ConfigError([
      `HEADERS_TIMEOUT_MS=${e.HEADERS_TIMEOUT_MS}: must not exceed REQUEST_TIMEOUT_MS=${e.REQUEST_TIMEOUT_MS}`,
    ]);
  }
  const fileLimitProblems = conflictingFileLimits(e);
  if (fileLimitProblems.length > 0) throw new ConfigError(fileLimitProblems);
  const maxInFlight = e.MAX_IN_FLIGHT ?? e.MAX_CONCURRENT_JOBS;
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    engine: {
      command: e.ENGINE_COMMAND || undefined,
      port: e.ENGINE_PORT,
      url: (e.ENGINE_URL ?? `http://127.0.0.1:${e.ENGINE_PORT}`).replace(/\/+$/, ''),
      startTimeoutMs: e.ENGINE_START_TIMEOUT_MS,
      healthIntervalMs: e.ENGINE_HEALTH_INTERVAL_MS,
      healthFailures: e.ENGINE_HEALTH_FAILURES,
      jobUids: e.ENGINE_JOB_UIDS ?? null,
      restartMaxBackoffMs: e.ENGINE_RESTART_MAX_BACKOFF_MS,
      stopTimeoutMs: e.ENGINE_STOP_TIMEOUT_MS,
      warmupLanguages: e.ENGINE_WARMUP_LANGUAGES,
      exitOnStartFailure: e.ENGINE_EXIT_ON_START_FAILURE,
      bodyLimitBytes: e.ENGINE_BODY_LIMIT_BYTES,
      deadlineMarginMs: e.ENGINE_DEADLINE_MARGIN_MS,
      launchedLimits: {
        runTimeoutMs: e.MAX_TIMEOUT_SECONDS * 1000,
        compileTimeoutMs: e.PISTON_COMPILE_TIMEOUT ?? PISTON_DEFAULT_LIMITS.compileTimeoutMs,
        outputMaxBytes: e.OUTPUT_MAX_BYTES,
        runMemoryBytes: e.PISTON_RUN_MEMORY_LIMIT ?? PISTON_DEFAULT_LIMITS.runMemoryBytes,
      },
      attachedLimits: {
        ...(e.ENGINE_RUN_TIMEOUT_MAX_MS !== undefined && {
          runTimeoutMs: e.ENGINE_RUN_TIMEOUT_MAX_MS,
        }),
        ...(e.ENGINE_COMPILE_TIMEOUT_MAX_MS !== undefined && {
          compileTimeoutMs: e.ENGINE_COMPILE_TIMEOUT_MAX_MS,
        }),
        ...(e.ENGINE_OUTPUT_MAX_BYTES !== undefined && {
          outputMaxBytes: e.ENGINE_OUTPUT_MAX_BYTES,
        }),
        ...(e.ENGINE_RUN_MEMORY_MAX_BYTES !== undefined && {
          runMemoryBytes: e.ENGINE_RUN_MEMORY_MAX_BYTES,
        }),
      },
    },
    defaultLanguage: e.DEFAULT_LANGUAGE,
    defaultTimeoutSeconds: e.DEFAULT_TIMEOUT_SECONDS,
    maxTimeoutSeconds: e.MAX_TIMEOUT_SECONDS,
    outputMaxBytes: e.OUTPUT_MAX_BYTES,
    maxConcurrentJobs: e.MAX_CONCURRENT_JOBS,
    gate: {
      maxInFlight,
      queueMax: e.QUEUE_MAX ?? maxInFlight,
      queueWaitMs: e.QUEUE_WAIT_MS,
    },
    server: {
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    allowPackageManagement: e.ALLOW_PACKAGE_MANAGEMENT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    identifiersTracked: e.IDENTIFIERS_TRACKED,
    files: {
      dir: e.FILES_DIR === undefined ? privateFilesDir() : path.resolve(e.FILES_DIR),
      dirIsPrivate: e.FILES_DIR === undefined,
      maxFileBytes: e.FILE_MAX_BYTES,
      maxCount: e.FILES_MAX_COUNT,
      maxTotalBytes: e.FILES_MAX_TOTAL_BYTES,
      engineFilesystem: e.ENGINE_FILESYSTEM ?? (e.ENGINE_COMMAND ? 'shared' : 'separate'),
    },
    pythonResult: e.PYTHON_RESULT,
    executionsKept: e.EXECUTIONS_KEPT,
  };
}

/** Limits that would promise what another forbids: refused at start rather than met later. */
function conflictingFileLimits(e: Environment): string[] {
  const problems: string[] = [];
  if (e.FILE_MAX_BYTES > e.FILES_MAX_TOTAL_BYTES) {
    problems.push(
      `FILE_MAX_BYTES=${e.FILE_MAX_BYTES}: must not exceed FILES_MAX_TOTAL_BYTES=${e.FILES_MAX_TOTAL_BYTES} (a file that size could never be stored)`,
    );
  }
  return problems;
}

/**
 * Without FILES_DIR, a folder no other adapter on this machine can share by accident (two
 * `npm start`s, a test run beside a dev server): named by process id and a random part.
 */
function privateFilesDir(): string {
  const name = `piston-session-adapter-${process.pid}-${randomBytes(4).toString('hex')}`;
  return path.join(os.tmpdir(), name);
}
