/**
 * Installs Piston packages into the image through Piston's own package API, then proves every
 * installed runtime runs. The HTTP function, the sleep and the log are injected: unit tests
 * drive the whole flow without a network or an engine. Every failure names the package and
 * the index it came from.
 */
import { checkHelloWorld, type RunResult, type RuntimeRef } from './helloWorld';
import { parseIndex, resolveSpec, type IndexEntry, type PackageSpec } from './packageIndex';
import {
  describeError,
  isTransient,
  TransientError,
  withRetries,
  type RetryOptions,
} from './retry';

export interface HttpAnswer {
  status: number;
  text: string;
}

export type HttpCall = (request: {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  timeoutMs: number;
}) => Promise<HttpAnswer>;

export interface InstallOptions {
  specs: PackageSpec[];
  /** Where Piston reads its package list (PISTON_REPO_URL, or Piston's default). */
  indexUrl: string;
  /** Piston's API root, e.g. http://127.0.0.1:2001. */
  engineUrl: string;
  http: HttpCall;
  retry: RetryOptions;
  /** Run the hello worlds (false where the engine cannot run jobs at build time). */
  checkRuns: boolean;
  log: (line: string) => void;
}

export class InstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstallError';
  }
}

const INDEX_TIMEOUT_MS = 60_000;
/** A package is a tarball of up to a few hundred MB, downloaded and unpacked by Piston. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const RUN_TIMEOUT_MS = 120_000;

export async function installRuntimes(options: InstallOptions): Promise<RuntimeRef[]> {
  const { log } = options;
  if (options.specs.length === 0) {
    log('PISTON_PACKAGES is empty: no packages installed');
  } else {
    const index = await readIndex(options);
    const chosen = choosePackages(index, options);
    for (const [spec, entry] of chosen) await installOne(spec, entry, options);
  }
  const runtimes = await listRuntimes(options);
  log(`runtimes: ${runtimes.map((r) => `${r.language}-${r.version}`).join(', ') || 'none'}`);
  if (!options.checkRuns) {
    log('hello-world check skipped: this engine cannot run jobs during the build');
    return runtimes;
  }
  const failures = await checkHelloWorld(runtimes, (runtime, program) =>
    runProgram(runtime, program, options),
  );
  if (failures.length > 0) {
    throw new InstallError(
      `${failures.length} of ${runtimes.length} runtimes did not print hello world:\n` +
        failures.map((line) => `  - ${line}`).join('\n'),
    );
  }
  log(`hello world printed by all ${runtimes.length} runtimes`);
  return runtimes;
}

async function readIndex(options: InstallOptions): Promise<IndexEntry[]> {
  const { indexUrl } = options;
  let answer: HttpAnswer;
  const retry = retryLogged(options, `reading the package index ${indexUrl}`);
  try {
    answer = await withRetries(async () => {
      const got = await options.http({
        method: 'GET',
        url: indexUrl,
        timeoutMs: INDEX_TIMEOUT_MS,
      });
      if (got.status >= 500 || got.status === 429) {
        throw new TransientError(`HTTP ${got.status}`);
      }
      return got;
    }, retry);
  } catch (error) {
    throw new InstallError(
      `cannot read Piston's package index ${indexUrl} (packages ${names(options.specs)}), ` +
        `after ${retry.tries()}: ${describeError(error)}`,
    );
  }
  if (answer.status !== 200) {
    throw new InstallError(
      `Piston's package index ${indexUrl} answered HTTP ${answer.status} (packages ${names(options.specs)}): ${snippet(answer.text)}`,
    );
  }
  const index = parseIndex(answer.text);
  if (index.length === 0) {
    throw new InstallError(`Piston's package index ${indexUrl} lists no packages`);
  }
  return index;
}

function choosePackages(
  index: IndexEntry[],
  options: InstallOptions,
): Array<[PackageSpec, IndexEntry]> {
  const chosen: Array<[PackageSpec, IndexEntry]> = [];
  const problems: string[] = [];
  for (const spec of options.specs) {
    const found = resolveSpec(index, spec);
    if (found.kind === 'found') chosen.push([spec, found.entry]);
    else if (found.kind === 'unknown_package') {
      problems.push(`package "${spec.text}": no package "${spec.language}" in the index`);
    } else {
      problems.push(
        `package "${spec.text}": no version of "${spec.language}" in the index satisfies "${spec.range}" (it has ${found.versions.join(', ')})`,
      );
    }
  }
  if (problems.length > 0) {
    throw new InstallError(
      `${problems.join('\n')}\n(index: ${options.indexUrl}; set PISTON_PACKAGES or PISTON_REPO_URL)`,
    );
  }
  return chosen;
}

async function installOne(
  spec: PackageSpec,
  entry: IndexEntry,
  options: InstallOptions,
): Promise<void> {
  const name = `${entry.language}-${entry.version}`;
  const where = `package "${spec.text}" (${name} from ${entry.download}, index ${options.indexUrl})`;
  const started = Date.now();
  let answer: HttpAnswer;
  const retry = retryLogged(options, `installing ${where}`);
  try {
    answer = await withRetries(async () => {
      const got = await options.http({
        method: 'POST',
        url: `${options.engineUrl}/api/v2/packages`,
        body: { language: entry.language, version: entry.version },
        timeoutMs: INSTALL_TIMEOUT_MS,
      });
      const message = messageOf(got.text);
      // Piston reports its own download's failures as a 500 with node-fetch's message.
      if (got.status >= 500 && !message.includes('Already installed')) {
        const failure = new Error(`Piston answered HTTP ${got.status}: ${message}`);
        throw isTransient(failure) ? new TransientError(failure.message) : failure;
      }
      return got;
    }, retry);
  } catch (error) {
    throw new InstallError(
      `installing ${where} failed after ${retry.tries()}: ${describeError(error)}`,
    );
  }
  const message = messageOf(answer.text);
  if (answer.status === 200) {
    options.log(`installed ${name} (${spec.text}) in ${Date.now() - started} ms`);
  } else if (message.includes('Already installed')) {
    options.log(`${name} (${spec.text}) was already installed`);
  } else {
    throw new InstallError(
      `installing ${where}: Piston answered HTTP ${answer.status}: ${message}`,
    );
  }
}

async function listRuntimes(options: InstallOptions): Promise<RuntimeRef[]> {
  const answer = await options.http({
    method: 'GET',
    url: `${options.engineUrl}/api/v2/runtimes`,
    timeoutMs: INDEX_TIMEOUT_MS,
  });
  if (answer.status !== 200) {
    throw new InstallError(
      `GET /api/v2/runtimes answered HTTP ${answer.status}: ${snippet(answer.text)}`,
    );
  }
  const runtimes = JSON.parse(answer.text) as Array<{ language: string; version: string }>;
  return runtimes.map(({ language, version }) => ({ language, version }));
}

async function runProgram(
  runtime: RuntimeRef,
  program: string,
  options: InstallOptions,
): Promise<RunResult> {
  const answer = await options.http({
    method: 'POST',
    url: `${options.engineUrl}/api/v2/execute`,
    body: { language: runtime.language, version: runtime.version, files: [{ content: program }] },
    timeoutMs: RUN_TIMEOUT_MS,
  });
  if (answer.status !== 200) {
    return { status: answer.status, message: messageOf(answer.text) };
  }
  return { status: 200, ...(JSON.parse(answer.text) as Omit<RunResult, 'status'>) };
}

/** Retry options that log each retry, and count the tries for the final message. */
function retryLogged(
  options: InstallOptions,
  what: string,
): RetryOptions & { tries: () => string } {
  let tries = 1;
  return {
    ...options.retry,
    onRetry: (error, attempt, delayMs) => {
      tries = attempt + 1;
      options.log(
        `${what}: try ${attempt} of ${options.retry.attempts} failed (${describeError(error)}); again in ${delayMs} ms`,
      );
    },
    tries: () => (tries === 1 ? '1 try' : `${tries} tries`),
  };
}

/** Piston's errors are `{"message": ...}`; anything else is shown as it came. */
function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && 'message' in body) {
      return String((body as { message: unknown }).message);
    }
  } catch {
    // Not JSON.
  }
  return snippet(text);
}

function snippet(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= 300 ? trimmed : `${trimmed.slice(0, 300)}...`;
}

function names(specs: PackageSpec[]): string {
  return specs.map((spec) => spec.text).join(' ');
}
