import type { EngineLifecycle } from '../engine/engineState';
import { linkedSignal, settleWithin, sleep, type LinkedSignal } from './deadline';
import {
  launchEngineProcess,
  type EngineExitStatus,
  type EngineProcess,
  type EngineStream,
} from './engineProcess';
import { terminateEngine } from './engineStop';
import { describeExit, describeOutput } from './exitReason';
import { findFreePort } from './freePort';
import { pollUntilHealthy } from './healthPoll';
import { OutputTail } from './outputTail';
import { RestartPolicy } from './restartPolicy';
import { StartLatch, type StartOutcome } from './startLatch';
import type { ResolvedSupervisorOptions, Supervisor } from './supervisor';
import { warmUp } from './warmup';

interface EngineOutput {
  stdout: OutputTail;
  stderr: OutputTail;
}

interface RunResult {
  exit: EngineExitStatus;
  output: EngineOutput;
  pid: number | undefined;
  launchedAt: number;
  /** When it became ready (performance.now()), or null if it never did. */
  readyAt: number | null;
}

/** Beyond the stop timeout, how long stop() waits for the supervision loop to wind down. */
const LOOP_WIND_DOWN_MS = 3_000;

/**
 * Supervised mode: launches ENGINE_COMMAND, waits for it to answer, relaunches it with capped
 * exponential backoff whenever it exits, and keeps EngineState saying why it is not ready.
 */
export class SupervisedEngine implements Supervisor {
  private readonly stopController = new AbortController();
  private readonly latch = new StartLatch();
  private readonly policy: RestartPolicy;
  /** The engine process running now, if any. */
  private current: EngineProcess | null = null;
  private everReady = false;
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private bindAddress = '';
  private url: string;

  constructor(
    private readonly options: ResolvedSupervisorOptions,
    private readonly command: string,
  ) {
    const { config, timing } = options;
    this.policy = new RestartPolicy(
      timing.restartBaseMs,
      config.engine.restartMaxBackoffMs,
      timing.stableAfterMs,
    );
    this.url = config.engine.url;
  }

  private get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  start(): Promise<StartOutcome> {
    if (this.loop !== null) throw new Error('the supervisor was already started');
    this.loop = this.supervise().catch((error: unknown) => {
      // A bug here must neither leave startup waiting forever nor hide why nothing works.
      const reason = `engine supervisor failed: ${error instanceof Error ? error.message : String(error)}`;
      this.options.logger.error({ err: error }, 'engine supervisor failed');
      if (!this.stopSignal.aborted) this.options.engineState.update({ state: 'degraded', reason });
      this.latch.settle(false, reason);
    });
    return this.latch.outcome;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  killNow(): void {
    this.current?.signalGroup('SIGKILL');
  }

  private async stopOnce(): Promise<void> {
    const { config, engineState, logger } = this.options;
    this.stopController.abort();
    engineState.update({ state: 'stopping', reason: 'the adapter is shutting down' });
    const engine = this.current;
    if (engine !== null) await terminateEngine(engine, config.engine.stopTimeoutMs, logger);
    // Every wait in the loop watches the stop signal, so it ends at once; bounded regardless.
    if (this.loop !== null) {
      await settleWithin(this.loop, config.engine.stopTimeoutMs + LOOP_WIND_DOWN_MS);
    }
    this.latch.settle(false, 'the adapter stopped before the engine was ready');
  }

  private async supervise(): Promise<void> {
    const { config, engineState, logger } = this.options;
    const port = config.engine.port === 0 ? await findFreePort() : config.engine.port;
    this.bindAddress = `127.0.0.1:${port}`;
    // With ENGINE_PORT=0 the configured URL names port 0; the engine is where we bound it.
    if (config.engine.port === 0) this.url = `http://${this.bindAddress}`;
    engineState.update({ url: this.url });

    let previousExit: string | null = null;
    while (!this.stopSignal.aborted) {
      const run = await this.runOnce(previousExit);
      if (this.stopSignal.aborted) return;

      const description = describeExit(run.exit, {
        stderr: run.output.stderr.lines(),
        stdout: run.output.stdout.lines(),
      });
      const now = performance.now();
      const delayMs = this.policy.nextDelay(run.readyAt === null ? null : now - run.readyAt);
      const restarts = engineState.snapshot().restarts + 1;
      const stderrTail = run.output.stderr.lines();
      // Restarting: it worked before, so this is an outage. Degraded: it never worked yet.
      const state: EngineLifecycle = this.everReady ? 'restarting' : 'degraded';
      logger.error(
        {
          enginePid: run.pid,
          ...run.exit,
          ranMs: Math.round(now - run.launchedAt),
          wasReady: run.readyAt !== null,
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
    const { config, engineState, logger, timing, probe } = this.options;
    const output: EngineOutput = { stdout: new OutputTail(), stderr: new OutputTail() };
    const launchedAt = performance.now();
    let engine: EngineProcess;
    try {
      engine = await launchEngineProcess({
        command: this.command,
        env: this.engineEnvironment(),
        onLine: (stream, line, pid) => this.onEngineLine(output, stream, line, pid),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        exit: { code: null, signal: null, error: message },
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
        return { exit, output, pid: enginePid, launchedAt, readyAt: null };
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

      const poll = await pollUntilHealthy({
        probe,
        url: this.url,
        timing: timing.poll,
        deadlineMs: config.engine.startTimeoutMs,
        signal: runSignal,
        onDeadline: (lastError) => this.onStartDeadline(enginePid, output, lastError),
      });
      let readyAt: number | null = null;
      if (poll.healthy) {
        logger.info(
          {
            enginePid,
            durationMs: Math.round(performance.now() - launchedAt),
            probes: poll.probes,
          },
          'engine answering',
        );
        await warmUp({
          url: this.url,
          languages: config.engine.warmupLanguages,
          logger,
          timeoutMs: config.engine.startTimeoutMs,
          signal: runSignal,
        });
        if (!runSignal.aborted) {
          readyAt = performance.now();
          this.everReady = true;
          engineState.update({ state: 'ready', pid: enginePid ?? null });
          logger.info({ enginePid, startupMs: Math.round(readyAt - launchedAt) }, 'engine ready');
          this.latch.settle(true, null);
        }
      }
      // The engine's lifetime: unbounded by design; stop() ends it with bounded escalation.
      const exit = await engine.exited;
      return { exit, output, pid: enginePid, launchedAt, readyAt };
    } finally {
      run?.dispose();
      this.current = null;
    }
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
    output[stream].push(line);
    const fields = { source: 'engine', stream, enginePid };
    if (stream === 'stderr') this.options.logger.warn(fields, line);
    else this.options.logger.info(fields, line);
  }

  /** Piston reads its settings from PISTON_* variables; these carry our limits to it. */
  private engineEnvironment(): Record<string, string> {
    const { config } = this.options;
    return {
      PISTON_BIND_ADDRESS: this.bindAddress,
      PISTON_RUN_TIMEOUT: String(config.maxTimeoutSeconds * 1000),
      PISTON_OUTPUT_MAX_SIZE: String(config.outputMaxBytes),
      PISTON_MAX_CONCURRENT_JOBS: String(config.maxConcurrentJobs),
    };
  }
}
