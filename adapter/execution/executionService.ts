import type { AdapterConfig } from '../config/config';
import type { EngineSnapshot, EngineState } from '../engine/engineState';
import { EngineError } from '../piston/engineError';
import type { PistonClient } from '../piston/pistonClient';
import type { RuntimeCatalog } from '../piston/runtimeCatalog';
import type { PistonExecuteRequest, PistonFile, PistonRuntime } from '../piston/types';
import type { ExecutionInput } from '../azure/executeRequest';
import type { SessionFilesNotice } from '../files/fileStore';
import { outcomeFromPiston, type ExecutionOutcome } from '../azure/executionOutcome';
import { errors } from '../errors/errorTable';
import { errorFromEngine } from '../errors/fromEngine';
import { AdmissionGate, type Release } from './admissionGate';
import { entryFileName } from './entryFileName';
import { assembleProgramFiles } from './programFiles';
import { extractResult, runnerApplies, wrapPythonCode } from './pythonRunner';

export interface ExecuteOptions {
  /** Aborted when the caller goes away, so the engine stops waiting for nobody. */
  signal?: AbortSignal;
  /** The session whose uploaded files the code gets beside it. */
  identifier?: string | undefined;
}

/** The container's session files (the FileStore). */
export interface SessionFileSource {
  /** true: the engine's jobs use the session folder in place; false: files travel. */
  readonly shared: boolean;
  readonly dir: string;
  /** Files to send with the job (none when shared); 409 for an identifier not the owner. */
  filesForExecution(identifier: string | undefined): Promise<PistonFile[]>;
  /** After the job: what the code left; a notice when the folder is over its cap. */
  afterExecution(identifier: string | undefined): Promise<SessionFilesNotice | undefined>;
}

/** An engine request, and what is needed to read its answer. */
interface PreparedJob {
  request: PistonExecuteRequest;
  /** The request serialised once: measured against the engine's limit, then sent as is. */
  body: string;
  bodyBytes: number;
  /** Set when the Python runner wraps the code: its result marker carries this nonce. */
  resultNonce: string | null;
}

/**
 * Runs one Azure execution on the engine: resolves the language, builds the Piston request
 * within the engine's limits, calls it, and reads the answer in either Piston dialect.
 */
export class ExecutionService {
  /** Engine slots, shared with the /api/v2 passthrough; its numbers show on GET /. */
  readonly gate: AdmissionGate;
  private readonly running = new Set<AbortController>();
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
  }

  async execute(
    language: string,
    input: ExecutionInput,
    options: ExecuteOptions = {},
  ): Promise<{
    outcome: ExecutionOutcome;
    runtime: PistonRuntime;
    /** Present when the code left the session folder over FILES_MAX_TOTAL_BYTES. */
    sessionFiles?: SessionFilesNotice;
  }> {
    this.assertEngineReady();
    // Under overload, refuse before reading session files and building the job.
    this.gate.assertRoom();
    const runtime = await this.resolveRuntime(language, input.version);
    const runTimeoutMs = this.runTimeoutMs(input.timeoutSeconds);
    const files = (await this.sessionFiles?.filesForExecution(options.identifier)) ?? [];
    let job = this.prepareJob(runtime, input, files, runTimeoutMs, this.config.pythonResult);
    if (job.resultNonce !== null && job.bodyBytes > this.config.engine.bodyLimitBytes) {
      // The runner adds a few kB; code that fits the engine only without it still runs,
      // just without a result.
      job = this.prepareJob(runtime, input, files, runTimeoutMs, false);
    }
    this.assertFitsEngineBody(job);
    const { body, resultNonce } = job;

    const controller = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, controller.signal])
      : controller.signal;
    this.running.add(controller);
    let release: Release | undefined;
    /** The job may have written the session folder: take stock once it is over. */
    let jobSent = false;
    let answer: { outcome: ExecutionOutcome; runtime: PistonRuntime } | undefined;
    let sessionFiles: SessionFilesNotice | undefined;
    try {
      // Queued requests are in `running` too, so a dying engine turns them away at once.
      release = await this.gate.admit(signal);
      const started = performance.now();
      jobSent = true;
      const response = await this.client.execute(body, {
        signal,
        timeoutMs: runTimeoutMs + this.config.engine.deadlineMarginMs,
      });
      const outcome = outcomeFromPiston(response, {
        elapsedMs: performance.now() - started,
        runTimeoutMs,
        outputMaxBytes: this.config.outputMaxBytes,
      });
      answer = {
        outcome:
          resultNonce === null
            ? outcome
            : { ...outcome, ...extractResult(outcome.stdout, resultNonce) },
        runtime,
      };
    } catch (error) {
      // Never reached the engine: if it went away meanwhile, say so rather than "aborted".
      if (release === undefined) this.assertEngineReady();
      if (error instanceof EngineError) throw errorFromEngine(error);
      throw error;
    } finally {
      release?.();
      this.running.delete(controller);
      // After the slot is given back. A job that failed or timed out may have written files
      // too: they must stay usable by the next job's uid and be counted. Bounded (see
      // folderSurvey); a failure is the next survey's to meet, never this answer's.
      if (jobSent) {
        sessionFiles = await this.sessionFiles
          ?.afterExecution(options.identifier)
          .catch(() => undefined);
      }
    }
    return sessionFiles === undefined ? answer : { ...answer, sessionFiles };
  }

  /** Refuses at once, with the engine's own reason, rather than queueing on a dead engine. */
  assertEngineReady(): void {
    const snapshot = this.engineState.snapshot();
    if (snapshot.state === 'ready') return;
    const params = {
      engineState: snapshot.state,
      reason: snapshot.reason,
      restarts: snapshot.restarts,
      lastExit: snapshot.lastExit,
    };
    if (snapshot.state === 'stopping') throw errors.shutting_down(params);
    // A degraded engine never answered: a retry in 2 s would find it the same.
    throw errors.engine_not_ready(
      params,
      snapshot.state === 'degraded' ? { retryAfterSeconds: 10 } : {},
    );
  }

  private async resolveRuntime(language: string, version: string | undefined) {
    let lookup;
    try {
      lookup = await this.catalog.resolve(language, version);
    } catch (error) {
      if (error instanceof EngineError) throw errorFromEngine(error);
      throw error;
    }
    switch (lookup.kind) {
      case 'found':
        return lookup.runtime;
      case 'unknown_language':
        throw errors.unknown_language({ language, available: lookup.available });
      case 'unknown_version':
        throw errors.unknown_version({
          language: lookup.language,
          version,
          available: lookup.available,
        });
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
    // Shared file system: Python runs in the session folder (bare names, /mnt/data).
    const filesDir = this.sessionFiles?.shared === true ? this.sessionFiles.dir : undefined;
    const runner =
      withResult && runnerApplies(runtime)
        ? wrapPythonCode(input.code, input.stdin, this.config.outputMaxBytes, { filesDir })
        : null;
    const entry = runner
      ? runner.file
      : { name: entryFileName(runtime.language), content: input.code };
    const stdin = runner ? runner.stdin : input.stdin;
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
      resultNonce: runner?.nonce ?? null,
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
    throw errors.engine_body_limit({
      what: 'code, stdin and files',
      size,
      limit,
      largest,
      advice: null,
    });
  }
}
