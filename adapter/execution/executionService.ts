import type { AdapterConfig } from '../config/config';
import type { EngineJobErrors } from '../engine/engineJobErrors';
import { EngineLimits, type LearnedLimit } from '../engine/engineLimits';
import type { EngineSnapshot, EngineState } from '../engine/engineState';
import { EngineError } from '../piston/engineError';
import type { PistonClient } from '../piston/pistonClient';
import type { RuntimeCatalog } from '../piston/runtimeCatalog';
import type { PistonExecuteRequest, PistonFile, PistonRuntime } from '../piston/types';
import type { ExecutionInput } from '../azure/executeRequest';
import type { SessionFilesNotice } from '../files/fileStore';
import {
  outcomeFromPiston,
  type ExecutionOutcome,
  type TimeoutClamp,
} from '../azure/executionOutcome';
import { errors } from '../errors/errorTable';
import { errorFromEngine } from '../errors/fromEngine';
import { linkedSignal } from '../timing/deadline';
import { AdmissionGate, type Release } from './admissionGate';
import { entryFileName } from './entryFileName';
import { assembleProgramFiles } from './programFiles';
import {
  readRunnerOutput,
  ResultFiles,
  RUNNER_PARTS,
  runnerApplies,
  warmUpProgram,
  wrapPythonCode,
  type PythonRunnerProgram,
} from './pythonRunner/index';

export interface ExecuteOptions {
  /**
   * Aborted when the caller goes away: a queued execution leaves the queue. One already at
   * the engine runs on (Piston would run it anyway) and keeps its slot until it ends.
   */
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

/** What one runner warm-up did: the parts now compiled in the cache, or why none. */
export interface RunnerWarmUp {
  runtime: string;
  adopted: string[];
  error?: string;
}

/** Warm-ups tried per Python: one that keeps failing leaves its jobs compiling. */
const WARM_UP_ATTEMPTS = 3;

/** How long an empty engine 500 waits for the engine's log line saying why. */
const LOGGED_REASON_WAIT_MS = 250;

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
  /** The limits of the engine served through: known, configured or learned. */
  readonly limits: EngineLimits;
  /** Told when a limit is learned from the engine, to log it (set by the app). */
  onLimitLearned?: (learned: LearnedLimit) => void;
  /** Told how each runner warm-up went, to log it (set by the app). */
  onRunnerWarmUp?: (result: RunnerWarmUp) => void;
  /** Each Python's runner warm-up, by runtime (see warmUpRunner). */
  private readonly warmUps = new Map<
    string,
    { attempts: number; running: boolean; done: boolean }
  >();
  private readonly running = new Set<AbortController>();
  private generation: number;
  /** The Python runner's out-of-band results, when jobs share this file system. */
  private readonly resultFiles = new ResultFiles();
  private readonly onEngineChange = (snapshot: EngineSnapshot) => {
    // An attached engine that came back may have been restarted with other settings.
    if (snapshot.generation !== this.generation) {
      this.generation = snapshot.generation;
      this.limits.forgetLearned();
      for (const state of this.warmUps.values()) state.attempts = 0;
    }
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
    private readonly jobErrors?: EngineJobErrors,
  ) {
    this.gate = new AdmissionGate(config.gate);
    this.limits =
      config.engine.command === undefined
        ? EngineLimits.attached(config.engine.attachedLimits)
        : EngineLimits.launched(config.engine.launchedLimits);
    this.generation = engineState.snapshot().generation;
    engineState.on('change', this.onEngineChange);
    if (
      config.pythonResult &&
      (sessionFiles?.shared ?? config.files.engineFilesystem === 'shared')
    ) {
      // At start, not in the first Python request: making the folder sweeps those that
      // SIGKILLed adapters left, which may be large. A failure here is met again on first use.
      try {
        this.resultFiles.runnerCode();
      } catch {
        // The first Python execution says why.
      }
    }
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
    const files = (await this.sessionFiles?.filesForExecution(options.identifier)) ?? [];
    const build = (runTimeoutMs: number): PreparedJob => {
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
      return job;
    };
    let timeout = this.runTimeout(input.timeoutSeconds);
    let job = build(timeout.ms);

    // Aborted only when the engine is lost. A client that leaves does not abort the engine
    // call: Piston runs the job to its end anyway (contract section 5), so the slot stays
    // taken until the engine has finished, bounded by the call's deadline.
    const controller = new AbortController();
    // The client's leaving ends only the wait for a slot (see above).
    const queueSignal = linkedSignal([options.signal, controller.signal]);
    this.running.add(controller);
    let release: Release | undefined;
    /** Set once the job is sent: it may have written the session folder, so take stock after. */
    let sentAt: number | undefined;
    let answer: { outcome: ExecutionOutcome; runtime: PistonRuntime } | undefined;
    let sessionFiles: SessionFilesNotice | undefined;
    try {
      // Queued requests are in `running` too, so a dying engine turns them away at once.
      try {
        release = await this.gate.admit(queueSignal.signal);
      } finally {
        queueSignal.dispose();
      }
      const started = performance.now();
      sentAt = started;
      let response;
      try {
        response = await this.callEngine(job.body, timeout.ms, controller.signal);
      } catch (error) {
        // An attached engine with a lower limit than we thought: it named it; remember it and
        // retry once within it, still holding the slot.
        const learned = this.learnLimit(error);
        if (learned === null) throw error;
        timeout = this.runTimeout(input.timeoutSeconds);
        if (timeout.ms >= (job.request.run_timeout ?? Infinity)) throw error;
        job = build(timeout.ms);
        response = await this.callEngine(job.body, timeout.ms, controller.signal);
      }
      const outcome = outcomeFromPiston(response, {
        elapsedMs: performance.now() - started,
        runTimeoutMs: timeout.ms,
        outputMaxBytes: this.engineOutputMaxBytes(),
      });
      const clamped =
        timeout.clamp === null ? outcome : { ...outcome, timeoutClamp: timeout.clamp };
      const { runner, runnerNote } = job;
      answer = {
        outcome:
          runner === null
            ? { ...clamped, resultNote: runnerNote }
            : await this.withRunnerResult(clamped, runner),
        runtime,
      };
    } catch (error) {
      if (job.runner?.resultFile) this.discardLater(job.runner.resultFile, timeout.ms);
      // Never reached the engine: if it went away meanwhile, say so rather than "aborted".
      if (release === undefined) this.assertEngineReady();
      if (error instanceof EngineError) {
        throw errorFromEngine(await this.withLoggedReason(error, sentAt));
      }
      throw error;
    } finally {
      release?.();
      this.running.delete(controller);
      // After this execution's own turn: the warm-up never takes a caller's slot.
      if (job.runner?.resultFile) this.warmUpRunner(runtime);
      // After the slot is given back. A job that failed or timed out may have written files
      // too: they must stay usable by the next job's uid and be counted. Bounded (see
      // folderSurvey); a failure is the next survey's to meet, never this answer's.
      if (sentAt !== undefined) {
        sessionFiles = await this.sessionFiles
          ?.afterExecution(options.identifier)
          .catch(() => undefined);
      }
    }
    return sessionFiles === undefined ? answer : { ...answer, sessionFiles };
  }

  /**
   * An engine 500 with no body, given the reason the engine logged for it, when its log has
   * one (see EngineJobErrors for how the two are matched).
   */
  private async withLoggedReason(error: EngineError, sentAt: number | undefined) {
    const status = error.details.status ?? 0;
    const empty = error.details.body === undefined || error.details.body === '';
    if (error.kind !== 'bad_status' || status < 500 || !empty || sentAt === undefined) return error;
    const logged = await this.jobErrors?.waitSince(sentAt, LOGGED_REASON_WAIT_MS);
    if (logged == null) return error;
    return new EngineError(
      'bad_status',
      `${error.message}; the engine logged for job ${logged.uuid}: ${logged.reason}`,
      { ...error.details, cause: error },
    );
  }

  private callEngine(body: string, runTimeoutMs: number, signal: AbortSignal) {
    return this.client.execute(body, {
      signal,
      timeoutMs: runTimeoutMs + this.config.engine.deadlineMarginMs,
    });
  }

  /** A run-timeout refusal, learned; null for any other failure. */
  private learnLimit(error: unknown): LearnedLimit | null {
    if (!(error instanceof EngineError) || error.kind !== 'bad_status') return null;
    if (error.details.status !== 400) return null;
    const learned = this.limits.learnFromRefusal(error.message);
    if (learned?.name !== 'runTimeoutMs') return null;
    this.onLimitLearned?.(learned);
    return learned;
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

  /**
   * Clamped, never rejected: Azure clients send fixed values (Semantic Kernel: 100 s), and a
   * Piston started with its defaults takes no more than 3 s. The clamp is reported.
   */
  private runTimeout(requestedSeconds: number | undefined): {
    ms: number;
    clamp: TimeoutClamp | null;
  } {
    const { defaultTimeoutSeconds, maxTimeoutSeconds } = this.config;
    const asked =
      requestedSeconds === undefined || !(requestedSeconds > 0)
        ? defaultTimeoutSeconds
        : requestedSeconds;
    const askedMs = Math.max(1, Math.round(asked * 1000));
    const adapterCapMs = maxTimeoutSeconds * 1000;
    const engineLimit = this.limits.get('runTimeoutMs');
    const engineCapMs = this.limits.runTimeoutCapMs();
    let ms = Math.min(askedMs, adapterCapMs);
    let by: TimeoutClamp['by'] | null = askedMs > adapterCapMs ? 'adapter' : null;
    if (engineCapMs !== null && engineCapMs < ms) {
      ms = engineCapMs;
      by = 'engine';
    }
    if (by === null) return { ms, clamp: null };
    const reason =
      by === 'adapter'
        ? `MAX_TIMEOUT_SECONDS is ${maxTimeoutSeconds}`
        : `the engine's run timeout limit is ${engineCapMs} ms (${engineLimit.source})`;
    return {
      ms,
      clamp: {
        requestedSeconds: asked,
        appliedSeconds: ms / 1000,
        by,
        ...(requestedSeconds === undefined || !(requestedSeconds > 0) ? { defaulted: true } : {}),
        reason,
      },
    };
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
   * The output limit of the engine served through: the one handed to a launched engine,
   * configured or unknown (null) for an attached one, which does not say.
   */
  private engineOutputMaxBytes(): number | null {
    return this.limits.get('outputMaxBytes').value;
  }

  /**
   * Jobs on this file system (pre-isolate Piston, the local engine) get the result out of
   * band, in a file, and the session folder as their working folder; a remote engine's get
   * it on stdout and their files beside the code.
   */
  private wrapPython(code: string, filesTravel: boolean): PythonRunnerProgram {
    const shared = this.sessionFiles?.shared ?? this.config.files.engineFilesystem === 'shared';
    return wrapPythonCode(code, {
      outputMaxBytes: this.engineOutputMaxBytes() ?? this.config.outputMaxBytes,
      resultFile: shared ? this.resultFiles.newPath() : null,
      filesDir: shared && !filesTravel ? (this.sessionFiles?.dir ?? this.config.files.dir) : null,
      runnerCode: shared ? this.resultFiles.runnerCode() : null,
    });
  }

  /**
   * Runs, once per Python and in the background, the job that compiles the runner for the
   * cache (ResultFiles.adoptWarmUp): jobs run only compiled code the adapter owns. It takes
   * an engine slot only when one is free and nobody waits, and never counts as a refusal;
   * until it is done, jobs compile the runner. Only a warm-up the engine ran and failed
   * counts against its attempts; a new engine starts them again.
   */
  private warmUpRunner(runtime: PistonRuntime): void {
    const key = `${runtime.language}-${runtime.version}`;
    let state = this.warmUps.get(key);
    if (state === undefined) {
      state = { attempts: 0, running: false, done: false };
      this.warmUps.set(key, state);
    }
    if (state.done || state.running || state.attempts >= WARM_UP_ATTEMPTS) return;
    // Not on an engine that is gone or stopping: it would only spend an attempt.
    if (this.engineState.snapshot().state !== 'ready') return;
    const release = this.gate.tryAdmit();
    if (release === null) return;
    state.running = true;
    const current = state;
    this.runWarmUp(runtime, release).then(
      (adopted) => {
        current.done = adopted.length === Object.keys(RUNNER_PARTS).length;
        if (!current.done) current.attempts += 1;
        current.running = false;
        this.onRunnerWarmUp?.({ runtime: key, adopted });
      },
      (error: unknown) => {
        if (!(error instanceof EngineError && error.kind === 'connection_lost')) {
          current.attempts += 1;
        }
        current.running = false;
        const reason = error instanceof Error ? error.message : String(error);
        this.onRunnerWarmUp?.({ runtime: key, adopted: [], error: reason });
      },
    );
  }

  private async runWarmUp(runtime: PistonRuntime, release: Release): Promise<string[]> {
    const controller = new AbortController();
    this.running.add(controller);
    let outPrefix: string | undefined;
    let ms = 0;
    try {
      outPrefix = this.resultFiles.warmUpPrefix();
      ms = this.runTimeout(undefined).ms;
      const body = JSON.stringify({
        language: runtime.language,
        version: runtime.version,
        files: [warmUpProgram(this.resultFiles.runnerCode(), outPrefix)],
        run_timeout: ms,
      });
      const response = await this.callEngine(body, ms, controller.signal);
      if (response.run?.code !== 0) {
        throw new Error(`the warm-up job ended with ${JSON.stringify(response.run ?? null)}`);
      }
      return this.resultFiles.adoptWarmUp(outPrefix, true);
    } catch (error) {
      if (outPrefix !== undefined) this.discardWarmUpLater(outPrefix, ms);
      throw error;
    } finally {
      release();
      this.running.delete(controller);
    }
  }

  /** A failed warm-up's files, now and once its job must have ended (Piston runs it on). */
  private discardWarmUpLater(outPrefix: string, runTimeoutMs: number): void {
    const discard = () => {
      try {
        this.resultFiles.adoptWarmUp(outPrefix, false);
      } catch {
        // Gone with the folder.
      }
    };
    discard();
    setTimeout(discard, runTimeoutMs + this.config.engine.deadlineMarginMs).unref();
  }

  /**
   * An abandoned call's job may still run (Piston finishes a job whose client left) and write
   * its result after we gave up on it: remove the file now and once the job must have ended.
   */
  private discardLater(file: string, runTimeoutMs: number): void {
    this.resultFiles.discard(file);
    const ended = runTimeoutMs + this.config.engine.deadlineMarginMs;
    setTimeout(() => this.resultFiles.discard(file), ended).unref();
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
      file: runner.resultFile === null ? null : this.resultFiles.take(runner.resultFile),
      stopReason: outcome.stopReason,
      outputMaxBytes: this.engineOutputMaxBytes() ?? this.config.outputMaxBytes,
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
    throw errors.engine_body_limit({
      what: 'code, stdin and files',
      size,
      limit,
      largest,
      advice: null,
    });
  }
}
