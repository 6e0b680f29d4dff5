import type { AdapterConfig } from '../config/config';
import type { EngineSnapshot, EngineState } from '../engine/engineState';
import { EngineError } from '../piston/engineError';
import type { PistonClient } from '../piston/pistonClient';
import type { RuntimeCatalog } from '../piston/runtimeCatalog';
import type { PistonExecuteRequest, PistonFile, PistonRuntime } from '../piston/types';
import type { ExecutionInput } from '../azure/executeRequest';
import { outcomeFromPiston, type ExecutionOutcome } from '../azure/executionOutcome';
import { HttpError, httpErrorFromEngine } from '../http/httpError';
import { AdmissionGate, type Release } from './admissionGate';
import { entryFileName } from './entryFileName';
import { assembleProgramFiles } from './programFiles';
import {
  readRunnerOutput,
  ResultFiles,
  runnerApplies,
  wrapPythonCode,
  type PythonRunnerProgram,
} from './pythonRunner/index';

export interface ExecuteOptions {
  /** Aborted when the caller goes away, so the engine stops waiting for nobody. */
  signal?: AbortSignal;
  /** The session whose uploaded files the code gets beside it. */
  identifier?: string | undefined;
}

/** Where a session's uploaded files come from (the FileStore). */
export interface SessionFileSource {
  filesForExecution(identifier: string | undefined): Promise<PistonFile[]>;
}

/** An engine request, and what is needed to read its answer. */
interface PreparedJob {
  request: PistonExecuteRequest;
  /** The request serialised once: measured against the engine's limit, then sent as is. */
  body: string;
  bodyBytes: number;
  /** Set when the Python runner wraps the code: where and how its result comes back. */
  runner: PythonRunnerProgram | null;
  /** Why the runner was left out though it applied; it goes in the answer's resultNote. */
  runnerNote: string | null;
}

/**
 * Runs one Azure execution on the engine: resolves the language, builds the Piston request
 * within the engine's limits, calls it, and reads the answer in either Piston dialect.
 */
export class ExecutionService {
  /** Engine slots, shared with the /api/v2 passthrough; its numbers show on GET /. */
  readonly gate: AdmissionGate;
  private readonly running = new Set<AbortController>();
  /** The Python runner's out-of-band results, when jobs share this file system. */
  private readonly resultFiles = new ResultFiles();
  private readonly onEngineChange = (snapshot: EngineSnapshot) => {
    // A dead engine's sockets usually close at once, but a wedged one may not: abandon every
    // call so none hangs. Draining on shutdown ('stopping') must let them finish instead.
    if (snapshot.state === 'restarting' || snapshot.state === 'degraded') {
      const lost = new EngineError(
        'connection_lost',
        `the engine stopped while this request ran: ${snapshot.reason ?? snapshot.state}`,
      );
      for (const controller of this.running) controller.abort(lost);
    }
  };

  constructor(
    private readonly config: AdapterConfig,
    private readonly engineState: EngineState,
    private readonly client: PistonClient,
    private readonly catalog: RuntimeCatalog,
    private readonly sessionFiles?: SessionFileSource,
  ) {
    this.gate = new AdmissionGate(config.gate);
    engineState.on('change', this.onEngineChange);
  }

  inFlight(): number {
    return this.running.size;
  }

  dispose(): void {
    this.engineState.off('change', this.onEngineChange);
    this.resultFiles.close();
  }

  async execute(
    language: string,
    input: ExecutionInput,
    options: ExecuteOptions = {},
  ): Promise<{ outcome: ExecutionOutcome; runtime: PistonRuntime }> {
    this.assertEngineReady();
    // Under overload, refuse before reading session files and building the job.
    this.gate.assertRoom();
    const runtime = await this.resolveRuntime(language, input.version);
    const runTimeoutMs = this.runTimeoutMs(input.timeoutSeconds);
    const files = (await this.sessionFiles?.filesForExecution(options.identifier)) ?? [];
    let job = this.prepareJob(runtime, input, files, runTimeoutMs, this.config.pythonResult);
    if (job.runner !== null && job.bodyBytes > this.config.engine.bodyLimitBytes) {
      // The runner adds a few kB; code that fits the engine only without it still runs,
      // without a result, and the answer says why.
      const withRunner = job.bodyBytes;
      job = {
        ...this.prepareJob(runtime, input, files, runTimeoutMs, false),
        runnerNote: `no result: the result runner would take the request to ${withRunner} bytes, over the engine's limit of ${this.config.engine.bodyLimitBytes} bytes, so the code ran as a plain file`,
      };
    }
    this.assertFitsEngineBody(job);
    const { body, runner, runnerNote } = job;

    const controller = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, controller.signal])
      : controller.signal;
    this.running.add(controller);
    let release: Release | undefined;
    try {
      // Queued requests are in `running` too, so a dying engine turns them away at once.
      release = await this.gate.admit(signal);
      const started = performance.now();
      const response = await this.client.execute(body, {
        signal,
        timeoutMs: runTimeoutMs + this.config.engine.deadlineMarginMs,
      });
      const outcome = outcomeFromPiston(response, {
        elapsedMs: performance.now() - started,
        runTimeoutMs,
        outputMaxBytes: this.config.outputMaxBytes,
      });
      if (runner === null) return { outcome: { ...outcome, resultNote: runnerNote }, runtime };
      return { outcome: await this.withRunnerResult(outcome, runner), runtime };
    } catch (error) {
      if (runner?.resultFile) this.discardLater(runner.resultFile, runTimeoutMs);
      // Never reached the engine: if it went away meanwhile, say so rather than "aborted".
      if (release === undefined) this.assertEngineReady();
      if (error instanceof EngineError) throw httpErrorFromEngine(error);
      throw error;
    } finally {
      release?.();
      this.running.delete(controller);
    }
  }

  /** Refuses at once, with the engine's own reason, rather than queueing on a dead engine. */
  assertEngineReady(): void {
    const snapshot = this.engineState.snapshot();
    if (snapshot.state === 'ready') return;
    const retryAfter = snapshot.state === 'degraded' ? '10' : '2';
    throw new HttpError(
      503,
      snapshot.state === 'stopping' ? 'shutting_down' : 'engine_not_ready',
      `the engine is ${snapshot.state}: ${snapshot.reason ?? 'no reason recorded'}`,
      {
        engineState: snapshot.state,
        restarts: snapshot.restarts,
        lastExit: snapshot.lastExit,
      },
      { 'retry-after': retryAfter },
    );
  }

  private async resolveRuntime(language: string, version: string | undefined) {
    let lookup;
    try {
      lookup = await this.catalog.resolve(language, version);
    } catch (error) {
      if (error instanceof EngineError) throw httpErrorFromEngine(error);
      throw error;
    }
    switch (lookup.kind) {
      case 'found':
        return lookup.runtime;
      case 'unknown_language':
        throw new HttpError(
          404,
          'unknown_language',
          `language "${language}" is not installed in the engine; available: ${lookup.available.join(', ') || 'none'}`,
          { language, available: lookup.available },
        );
      case 'unknown_version':
        throw new HttpError(
          404,
          'unknown_version',
          `${lookup.language} has no version matching "${version}"; installed: ${lookup.available.join(', ')}`,
          { language: lookup.language, version, available: lookup.available },
        );
    }
  }

  /** Clamped, never rejected: Azure clients send fixed values (Semantic Kernel: 100 s). */
  private runTimeoutMs(requestedSeconds: number | undefined): number {
    const { defaultTimeoutSeconds, maxTimeoutSeconds } = this.config;
    const seconds =
      requestedSeconds === undefined || !(requestedSeconds > 0)
        ? defaultTimeoutSeconds
        : Math.min(requestedSeconds, maxTimeoutSeconds);
    return Math.max(1, Math.round(seconds * 1000));
  }

  private prepareJob(
    runtime: PistonRuntime,
    input: ExecutionInput,
    sessionFiles: PistonFile[],
    runTimeoutMs: number,
    withResult: boolean,
  ): PreparedJob {
    // Files that travel with the job land in its folder: the code must start there, not in
    // the session folder (only where none travel does the code work in FILES_DIR in place).
    const filesTravel = sessionFiles.length > 0 || input.files.length > 0;
    const runner =
      withResult && runnerApplies(runtime) ? this.wrapPython(input.code, filesTravel) : null;
    const entry = runner
      ? runner.file
      : { name: entryFileName(runtime.language), content: input.code };
    const stdin = input.stdin;
    const request: PistonExecuteRequest = {
      language: runtime.language,
      version: runtime.version,
      files: assembleProgramFiles(entry, sessionFiles, input.files),
      ...(stdin !== undefined && { stdin }),
      ...(input.args !== undefined && { args: input.args }),
      run_timeout: runTimeoutMs,
    };
    const body = JSON.stringify(request);
    return {
      request,
      body,
      bodyBytes: Buffer.byteLength(body),
      runner,
      runnerNote: null,
    };
  }

  /**
   * Jobs on this file system (pre-isolate Piston, the local engine) get the result out of
   * band, in a file, and the session folder as their working folder; a remote engine's get
   * it on stdout and their files beside the code.
   */
  private wrapPython(code: string, filesTravel: boolean): PythonRunnerProgram {
    const shared = this.config.files.engineFilesystem === 'shared';
    return wrapPythonCode(code, {
      outputMaxBytes: this.config.outputMaxBytes,
      resultFile: shared ? this.resultFiles.newPath() : null,
      filesDir: shared && !filesTravel ? this.config.files.dir : null,
      codeCache: shared ? this.resultFiles.codeCachePrefix() : null,
    });
  }

  /**
   * An abandoned call's job may still run (Piston finishes a job whose client left) and write
   * its result after we gave up on it: remove the file now and once the job must have ended.
   */
  private discardLater(file: string, runTimeoutMs: number): void {
    void this.resultFiles.discard(file);
    const ended = runTimeoutMs + this.config.engine.deadlineMarginMs;
    setTimeout(() => void this.resultFiles.discard(file), ended).unref();
  }

  /**
   * The program's status stays what it earned: where only the runner's record crossed the
   * output limit (the code had finished), the engine's kill is not the program's failure.
   */
  private async withRunnerResult(
    outcome: ExecutionOutcome,
    runner: PythonRunnerProgram,
  ): Promise<ExecutionOutcome> {
    const report = readRunnerOutput({
      stdout: outcome.stdout,
      nonce: runner.nonce,
      file: runner.resultFile === null ? null : await this.resultFiles.take(runner.resultFile),
      stopReason: outcome.stopReason,
      outputMaxBytes: this.config.outputMaxBytes,
    });
    const base = { ...outcome, stdout: report.stdout, result: report.result };
    const resultNote = report.resultNote;
    if (!report.finishedBeforeKill) return { ...base, resultNote };
    return {
      ...base,
      succeeded: true,
      exitCode: 0,
      signal: null,
      stopReason: null,
      stopMessage: null,
      resultNote,
    };
  }

  /** The engine turns an oversized body into an opaque 400; say what is too big instead. */
  private assertFitsEngineBody({ request, bodyBytes: size }: PreparedJob): void {
    const limit = this.config.engine.bodyLimitBytes;
    if (size <= limit) return;
    const largest = request.files
      .map((file, index) => ({
        name: index === 0 ? '(code)' : (file.name ?? `files[${index - 1}]`),
        bytes: Buffer.byteLength(file.content),
      }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 5);
    throw new HttpError(
      413,
      'engine_body_limit',
      `code, stdin and files come to ${size} bytes, over the engine's limit of ${limit} bytes; largest: ${largest.map((f) => `${f.name} (${f.bytes} bytes)`).join(', ')}`,
      { size, limit, largest },
    );
  }
}
