/**
 * The engine's settings, read from the environment under Piston's own names (PISTON_*), with
 * Piston's defaults, plus two of our own (LOCAL_ENGINE_*). Pure: no I/O, so it is unit-tested.
 */
import net from 'node:net';
import { isLogLevelName, type LogLevelName } from './log';

/** Which Piston the engine imitates: v3.1.1 (the last release) or current master (isolate). */
export type Dialect = 'v3' | 'master';

/** A limit for each stage, as Piston keeps them (`rt.timeouts.run`, ...). */
export interface StageLimits {
  compile: number;
  run: number;
}

export interface EngineConfig {
  bindHost: string;
  /** 0: any free port; the "listening" log line tells which. */
  bindPort: number;
  logLevel: LogLevelName;
  dialect: Dialect;
  /** Milliseconds; 0 or less means no limit. */
  timeouts: StageLimits;
  /** Milliseconds. Validated like master does (master dialect only), not enforced separately. */
  cpuTimes: StageLimits;
  /** Bytes of address space; -1 means no limit. */
  memoryLimits: StageLimits;
  /** Bytes per stream (stdout, stderr) and stage. */
  outputMaxSize: number;
  maxConcurrentJobs: number;
  maxOpenFiles: number;
  /** Bytes any one file written by a job may reach. */
  maxFileSize: number;
  /** Accepted for compatibility, not enforced (see stageProcess.ts). */
  maxProcessCount: number;
  /** Languages to offer, in this order; null: every one found on this machine. */
  languages: string[] | null;
  /** Where running jobs' process groups are recorded (see jobGroups.ts); undefined: nowhere. */
  jobGroupsDir: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The settings LOCAL_ENGINE_PISTON_DEFAULTS=true ignores: the engine's limits. With it, the
 * engine has Piston's default limits whatever it is handed, as a Piston container started with
 * no settings does; attach-mode tests then face what users of such a Piston face.
 */
export const LIMIT_SETTINGS = [
  'PISTON_RUN_TIMEOUT',
  'PISTON_COMPILE_TIMEOUT',
  'PISTON_RUN_CPU_TIME',
  'PISTON_COMPILE_CPU_TIME',
  'PISTON_RUN_MEMORY_LIMIT',
  'PISTON_COMPILE_MEMORY_LIMIT',
  'PISTON_OUTPUT_MAX_SIZE',
] as const;

export function parseConfig(env: NodeJS.ProcessEnv): EngineConfig {
  const { host, port } = parseBindAddress(env.PISTON_BIND_ADDRESS ?? '127.0.0.1:2000');
  const pistonDefaults = parseFlag(
    'LOCAL_ENGINE_PISTON_DEFAULTS',
    env.LOCAL_ENGINE_PISTON_DEFAULTS,
  );
  const ignored = new Set<string>(pistonDefaults ? LIMIT_SETTINGS : []);
  const int = (name: string, fallback: number) =>
    parseInteger(name, ignored.has(name) ? undefined : env[name], fallback);
  const config: EngineConfig = {
    bindHost: host,
    bindPort: port,
    logLevel: parseLogLevel(env.PISTON_LOG_LEVEL),
    dialect: parseDialect(env.LOCAL_ENGINE_DIALECT),
    timeouts: {
      compile: int('PISTON_COMPILE_TIMEOUT', 10_000),
      run: int('PISTON_RUN_TIMEOUT', 3_000),
    },
    cpuTimes: {
      compile: int('PISTON_COMPILE_CPU_TIME', 10_000),
      run: int('PISTON_RUN_CPU_TIME', 3_000),
    },
    memoryLimits: {
      compile: int('PISTON_COMPILE_MEMORY_LIMIT', -1),
      run: int('PISTON_RUN_MEMORY_LIMIT', -1),
    },
    outputMaxSize: int('PISTON_OUTPUT_MAX_SIZE', 1024),
    maxConcurrentJobs: int('PISTON_MAX_CONCURRENT_JOBS', 64),
    maxOpenFiles: int('PISTON_MAX_OPEN_FILES', 2048),
    maxFileSize: int('PISTON_MAX_FILE_SIZE', 10_000_000),
    maxProcessCount: int('PISTON_MAX_PROCESS_COUNT', 64),
    languages: parseLanguages(env.LOCAL_ENGINE_LANGUAGES),
    jobGroupsDir: env.LOCAL_ENGINE_JOB_GROUPS_DIR?.trim() || undefined,
  };
  atLeast('PISTON_OUTPUT_MAX_SIZE', config.outputMaxSize, 0);
  atLeast('PISTON_MAX_CONCURRENT_JOBS', config.maxConcurrentJobs, 1);
  atLeast('PISTON_MAX_OPEN_FILES', config.maxOpenFiles, 1);
  atLeast('PISTON_MAX_FILE_SIZE', config.maxFileSize, 1);
  return config;
}

/**
 * `host:port` as Piston takes it (`[::1]:2000` for IPv6). Only loopback is allowed: this engine
 * runs code with the rights of whoever started it, so nothing off this machine may reach it.
 */
export function parseBindAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  if (!match) throw new ConfigError(`PISTON_BIND_ADDRESS must be host:port, got "${value}"`);
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65_535) throw new ConfigError(`PISTON_BIND_ADDRESS port ${port} is out of range`);
  if (!isLoopback(host)) {
    throw new ConfigError(
      `PISTON_BIND_ADDRESS=${value}: refusing to bind "${host}". The local engine is not a ` +
        'sandbox (code runs with your rights), so it binds loopback only: 127.0.0.0/8, ::1 ' +
        'or localhost',
    );
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(host);
  return false;
}

function parseInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim()))
    throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  return Number(raw.trim());
}

function atLeast(name: string, value: number, minimum: number): void {
  if (value < minimum) throw new ConfigError(`${name} must be at least ${minimum}, got ${value}`);
}

function parseFlag(name: string, raw: string | undefined): boolean {
  const value = (raw ?? '').trim().toLowerCase();
  if (['', 'false', '0', 'no'].includes(value)) return false;
  if (['true', '1', 'yes'].includes(value)) return true;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function parseLogLevel(raw: string | undefined): LogLevelName {
  const level = (raw ?? 'info').trim().toLowerCase();
  if (!isLogLevelName(level)) {
    throw new ConfigError(`PISTON_LOG_LEVEL must be DEBUG, INFO, WARN or ERROR, got "${raw}"`);
  }
  return level;
}

function parseDialect(raw: string | undefined): Dialect {
  const dialect = (raw ?? 'v3').trim().toLowerCase();
  if (dialect !== 'v3' && dialect !== 'master') {
    throw new ConfigError(`LOCAL_ENGINE_DIALECT must be v3 or master, got "${raw}"`);
  }
  return dialect;
}

/** Unset: all found. Set: exactly these (an empty value offers none, like a fresh Piston). */
function parseLanguages(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  return raw
    .split(',')
    .map((language) => language.trim())
    .filter((language) => language !== '');
}
