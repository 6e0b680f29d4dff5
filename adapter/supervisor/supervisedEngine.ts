import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { makeProcessFolder } from '../files/processFolders';
import type { EngineLifecycle as LifecycleState } from '../engine/engineState';
import { EngineLifecycle } from './engineLifecycle';
import { linkedSignal, sleep, type LinkedSignal } from '../timing/deadline';
import {
  launchEngineProcess,
  type EngineExitStatus,
  type EngineProcess,
  type EngineStream,
} from './engineProcess';
import { terminateEngine } from './engineStop';
import { JobErrorReader, parseEngineLine } from './engineLog';
import { describeExit, describeOutput } from './exitReason';
import { findFreePort } from './freePort';
import type { HealthProbe } from './healthPoll';
import { killLeftovers } from './leftoverJobs';
import { OutputTail } from './outputTail';
import { RestartPolicy } from './restartPolicy';
import type { ResolvedSupervisorOptions } from './supervisor';

interface EngineOutput {
  stdout: OutputTail;
  stderr: OutputTail;
}

interface RunResult {
  exit: EngineExitStatus;
  /** The engine said its port was taken (EADDRINUSE). */
  portTaken: boolean;
  /** Set when the health loop found it wedged and killed it: why. */
  wedged: string | null;
  output: EngineOutput;
  pid: number | undefined;
  launchedAt: number;
  /** When it became ready (performance.now()), or null if it never did. */
  readyAt: number | null;
}

/** Beyond the stop timeout, how long stop() waits for the supervision loop to wind down. */
const LOOP_WIND_DOWN_MS = 3_000;
/** How long the leftovers of a dead engine may take to die before the next engine starts. */
const LEFTOVER_KILL_MS = 3_000;
/** Node's message when a listen fails on a taken port (Piston does not catch it). */
const PORT_TAKEN = /\bEADDRINUSE\b/;

/**
 * Supervised mode: launches ENGINE_COMMAND, waits for it to answer, relaunches it with capped
 * exponential backoff whenever it exits, and keeps EngineState saying why it is not ready.
 */
export class SupervisedEngine extends EngineLifecycle {
  protected readonly windDownMs: number;
  private readonly policy: RestartPolicy;
  /** The engine process running now, if any. */
  private current: EngineProcess | null = null;
  private everReady = false;
  private bindAddress = '';
  private port = 0;
  private url: string;
  private readonly jobErrorReader = new JobErrorReader();
  /** Where the local engine records its running jobs' process groups (jobGroups.ts there). */
  private readonly jobGroupsDir = makeProcessFolder('psa-engine-jobs-');

  constructor(
    options: ResolvedSupervisorOptions,
    private readonly command: string,
  ) {
    super(options);
    const { config, timing } = options;
    this.policy = new RestartPolicy(
      timing.restartBaseMs,
      config.engine.restartMaxBackoffMs,
      timing.stableAfterMs,
    );
    this.url = config.engine.url;
    this.windDownMs = config.engine.stopTimeoutMs + LOOP_WIND_DOWN_MS;
  }

  protected async releaseEngine(): Promise<void> {
    const { config, logger } = this.options;
    const engine = this.current;
    if (engine !== null) await terminateEngine(engine, config.engine.stopTimeoutMs, logger);
  }

  protected async afterStopped(): Promise<void> {
    // The engine's jobs are in groups of their own: SIGTERM to the engine's did not reach them.
    await this.killLeftovers('the adapter is stopping');
    rmSync(this.jobGroupsDir, { recursive: true, force: true });
  }

  killNow(): void {
    this.current?.signalGroup('SIGKILL');
    // Synchronously, as the process exits: the recorded job groups, at least.
    for (const pgid of this.recordedJobGroups()) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  }

  /** The process groups the local engine says are running jobs (none for Piston). */
  private recordedJobGroups(): number[] {
    try {
      return readdirSync(this.jobGroupsDir)
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .filter((pgid) => pgid > 1);
    } catch {
      return [];
    }
  }

  /**
   * Kills every job process a dead engine left (leftoverJobs.ts) and checks none is left, so
   * the next engine never shares the machine with them.
   */
  private async killLeftovers(after: string): Promise<void> {
    const { config, logger } = this.options;
    const groups = this.recordedJobGroups();
    const result = await killLeftovers({ uids: config.engine.jobUids, groups }, LEFTOVER_KILL_MS);
    for (const pgid of groups) rmSync(path.join(this.jobGroupsDir, String(pgid)), { force: true });
    if (result.survivors.length > 0) {
      logger.error(
        { survivors: result.survivors, killed: result.killed.length, after },
        'job processes of the dead engine survived SIGKILL',
      );
    } else if (result.killed.length > 0) {
      logger.warn(
        { killed: result.killed.length, pids: result.killed.slice(0, 20), after },
        'killed job processes the engine left behind',
      );
    }
  }

  protected async drive(): Promise<void> {
    const { config, engineState, logger } = this.options;
    const port = config.engine.port === 0 ? await findFreePort() : config.engine.port;
    this.port = port;
    this.bindAddress = `127.0.0.1:${port}`;
    // With ENGINE_PORT=0 the configured URL names port 0; the engine is where we bound it.
    if (config.engine.port === 0) this.url = `http://${this.bindAddress}`;
    engineState.update({ url: this.url });

    let previousExit: string | null = null;
    while (!this.stopSignal.aborted) {
      const run = await this.runOnce(previousExit);
      if (this.stopSignal.aborted) return;
      await this.killLeftovers(`engine pid ${run.pid} exited`);

      const exitDescription = describeExit(run.exit, {
        stderr: run.output.stderr.lines(),
        stdout: run.output.stdout.lines(),
      });
      let description = exitDescription;
      if (run.portTaken) {
        description = `engine port ${this.bindAddress} is taken by another process (${exitDescription})`;
      } else if (run.wedged !== null) {
        description = `${run.wedged}; ${exitDescription}`;
      }
      const now = performance.now();
      const delayMs = this.policy.nextDelay(run.readyAt === null ? null : now - run.readyAt);
      const restarts = engineState.snapshot().restarts + 1;
      const stderrTail = run.output.stderr.lines();
      // Restarting: it worked before, so this is an outage. Degraded: it never worked yet.
      const state: LifecycleState = this.everReady ? 'restarting' : 'degraded';
      logger.error(
        {
          enginePid: run.pid,
          ...run.exit,
          ranMs: Math.round(now - run.launchedAt),
          wasReady: run.readyAt !== null,
          portTaken: run.portTaken,
          wedged: run.wedged,
          stderrTail,
          restart: restarts,
          delayMs,
        },
        'engine exited',
      );
      engineState.update({
        state,
        reason: `${description}; restart ${restarts} in ${delayMs} ms`,
        pid: null,
        restarts,
        lastExit: {
          code: run.exit.code,
          signal: run.exit.signal,
          at: new Date().toISOString(),
          stderrTail,
        },
      });
      // An engine that exits before the deadline is not waited for: degraded at once.
      this.latch.settle(false, description);
      previousExit = description;
      if (!(await sleep(delayMs, this.stopSignal))) return;
    }
  }

  /** One engine process from launch to exit. */
  private async runOnce(previousExit: string | null): Promise<RunResult> {
    const { config, engineState, logger, probe } = this.options;
    const output: EngineOutput = { stdout: new OutputTail(), stderr: new OutputTail() };
    const launchedAt = performance.now();
    const seen = { portTaken: false, wedged: null as string | null };
    let engine: EngineProcess;
    try {
      engine = await launchEngineProcess({
        command: this.command,
        env: this.engineEnvironment(),
        onLine: (stream, line, pid) => {
          if (PORT_TAKEN.test(line)) seen.portTaken = true;
          this.onEngineLine(output, stream, line, pid);
        },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        exit: { code: null, signal: null, error: message },
        ...seen,
        output,
        pid: undefined,
        launchedAt,
        readyAt: null,
      };
    }
    const enginePid = engine.pid;
    this.current = engine;
    let run: LinkedSignal | undefined;
    try {
      if (this.stopSignal.aborted) {
        // stop() ran while this launch was under way, and could not see this process yet.
        const exit = (await terminateEngine(engine, config.engine.stopTimeoutMs, logger)) ?? {
          code: null,
          signal: null,
          error: 'did not exit after SIGKILL',
        };
        return { exit, ...seen, output, pid: enginePid, launchedAt, readyAt: null };
      }
      logger.info(
        {
          enginePid,
          command: this.command,
          bindAddress: this.bindAddress,
          launchMs: Math.round(performance.now() - launchedAt),
        },
        'engine launched',
      );
      engineState.update({
        pid: enginePid ?? null,
        reason:
          previousExit === null
            ? `engine is starting (pid ${enginePid})`
            : `engine relaunched (pid ${enginePid}) after: ${previousExit}; waiting for it to answer`,
      });

      // Health checks and warm-up stop as soon as the engine exits or the adapter stops.
      const exitedController = new AbortController();
      void engine.exited.then(() => exitedController.abort());
      run = linkedSignal([this.stopSignal, exitedController.signal]);
      const runSignal = run.signal;

      let readyAt: number | null = null;
      const ready = await this.awaitReady({
        url: this.url,
        probe: this.ownProbe(probe, enginePid, seen),
        signal: runSignal,
        startedAt: launchedAt,
        fields: { enginePid },
        readyPatch: { pid: enginePid ?? null },
        onDeadline: (lastError) => this.onStartDeadline(enginePid, output, lastError),
      });
      if (ready) {
        readyAt = performance.now();
        this.everReady = true;
        void this.watchReadyEngine(engine, runSignal, seen);
      }
      // The engine's lifetime: unbounded by design; stop() ends it with bounded escalation.
      const exit = await engine.exited;
      return { exit, ...seen, output, pid: enginePid, launchedAt, readyAt };
    } finally {
      run?.dispose();
      this.current = null;
    }
  }

  /**
   * The readiness probe, made sure it reached this engine: with the port taken, the launch
   * fails while the port's holder (another adapter's engine, say) answers every probe.
   */
  private ownProbe(
    probe: HealthProbe,
    enginePid: number | undefined,
    seen: { portTaken: boolean },
  ): HealthProbe {
    return async (url, timeoutMs, signal) => {
      if (seen.portTaken) {
        return { ok: false, error: `engine port ${this.bindAddress} is taken by another process` };
      }
      const result = await probe(url, timeoutMs, signal);
      if (!result.ok || enginePid === undefined) return result;
      const owner = this.options.portOwner(this.port, enginePid);
      if (owner.kind !== 'other') return result;
      return {
        ok: false,
        error: `engine port ${this.bindAddress} is taken by another process (pid ${owner.pid}, not the engine's pid ${enginePid}): its answers are not the engine's`,
      };
    };
  }

  /**
   * The health loop once ready (healthWatch.ts): an engine that stops answering for the
   * threshold of checks in a row is wedged, and is killed, so the exit path restarts it.
   */
  private async watchReadyEngine(
    engine: EngineProcess,
    runSignal: AbortSignal,
    seen: { wedged: string | null },
  ): Promise<void> {
    const { logger } = this.options;
    await this.watch({
      url: this.url,
      signal: runSignal,
      onUnhealthy: (lastError, failures) => {
        seen.wedged = `engine stopped answering GET /api/v2/runtimes (${failures} checks in a row, last: ${lastError}) and was killed`;
        logger.error(
          { enginePid: engine.pid, failures, lastError },
          'engine wedged: not answering health checks; killing it to restart',
        );
        this.options.engineState.update({ state: 'restarting', reason: seen.wedged });
        engine.signalGroup('SIGKILL');
      },
      onHealthy: () => undefined,
    });
  }

  private onStartDeadline(
    enginePid: number | undefined,
    output: EngineOutput,
    lastError: string,
  ): void {
    if (this.stopSignal.aborted) return;
    const { config, engineState, logger } = this.options;
    const ms = config.engine.startTimeoutMs;
    const said = describeOutput({ stderr: output.stderr.lines(), stdout: output.stdout.lines() });
    const reason =
      `engine did not answer GET /api/v2/runtimes within ${ms} ms ` +
      `(pid ${enginePid} still running; last check: ${lastError})${said}`;
    logger.error(
      { enginePid, startTimeoutMs: ms, lastError, stderrTail: output.stderr.lines() },
      'engine not answering by the startup deadline',
    );
    engineState.update({ state: 'degraded', reason });
    this.latch.settle(false, reason);
  }

  private onEngineLine(
    output: EngineOutput,
    stream: EngineStream,
    line: string,
    enginePid: number | undefined,
  ): void {
    const entry = parseEngineLine(line, stream);
    output[stream].push(entry.message);
    const jobError = this.jobErrorReader.read(entry);
    if (jobError !== null) this.options.jobErrors?.record(jobError.uuid, jobError.reason);
    const level = jobError !== null ? 'error' : entry.level;
    this.options.logger[level](
      {
        ...entry.fields,
        source: 'engine',
        stream,
        enginePid,
        ...(entry.module !== null && { module: entry.module }),
        ...(entry.time !== null && { engineTime: entry.time }),
        ...(jobError !== null && { job: jobError.uuid }),
      },
      entry.message,
    );
  }

  /** Piston reads its settings from PISTON_* variables; these carry our limits to it. */
  private engineEnvironment(): Record<string, string> {
    const { config } = this.options;
    return {
      PISTON_BIND_ADDRESS: this.bindAddress,
      PISTON_RUN_TIMEOUT: String(config.maxTimeoutSeconds * 1000),
      PISTON_OUTPUT_MAX_SIZE: String(config.outputMaxBytes),
      PISTON_MAX_CONCURRENT_JOBS: String(config.maxConcurrentJobs),
      // Read by the local engine only (Piston ignores it): see killLeftovers.
      LOCAL_ENGINE_JOB_GROUPS_DIR: this.jobGroupsDir,
    };
  }
}
