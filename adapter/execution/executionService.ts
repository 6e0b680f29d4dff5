import type { AdapterConfig } from '../config/config';
import type { EngineSnapshot, EngineState } from '../engine/engineState';
import { EngineError } from '../piston/engineError';
import type { PistonClient } from '../piston/pistonClient';
import type { RuntimeCatalog } from '../piston/runtimeCatalog';
import type { PistonExecuteRequest, PistonRuntime } from '../piston/types';
import type { ExecutionInput } from '../azure/executeRequest';
import { outcomeFromPiston, type ExecutionOutcome } from '../azure/executionOutcome';
import { HttpError, httpErrorFromEngine } from '../http/httpError';
import { entryFileName } from './entryFileName';

export interface ExecuteOptions {
  /** Aborted when the caller goes away, so the engine stops waiting for nobody. */
  signal?: AbortSignal;
}

/**
 * Runs one Azure execution on the engine: resolves the language, builds the Piston request
 * within the engine's limits, calls it, and reads the answer in either Piston dialect.
 */
export class ExecutionService {
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
  ) {
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
  ): Promise<{ outcome: ExecutionOutcome; runtime: PistonRuntime }> {
    this.assertEngineReady();
    const runtime = await this.resolveRuntime(language, input.version);
    const runTimeoutMs = this.runTimeoutMs(input.timeoutSeconds);
    const request = this.buildRequest(runtime, input, runTimeoutMs);
    this.assertFitsEngineBody(request);

    const controller = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, controller.signal])
      : controller.signal;
    this.running.add(controller);
    const started = performance.now();
    try {
      const response = await this.client.execute(request, {
        signal,
        timeoutMs: runTimeoutMs + this.config.engine.deadlineMarginMs,
      });
      const outcome = outcomeFromPiston(response, {
        elapsedMs: performance.now() - started,
        runTimeoutMs,
        outputMaxBytes: this.config.outputMaxBytes,
      });
      return { outcome, runtime };
    } catch (error) {
      if (error instanceof EngineError) throw httpErrorFromEngine(error);
      throw error;
    } finally {
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

  private buildRequest(
    runtime: PistonRuntime,
    input: ExecutionInput,
    runTimeoutMs: number,
  ): PistonExecuteRequest {
    const name = entryFileName(runtime.language);
    return {
      language: runtime.language,
      version: runtime.version,
      files: [{ ...(name !== undefined && { name }), content: input.code }, ...input.files],
      ...(input.stdin !== undefined && { stdin: input.stdin }),
      ...(input.args !== undefined && { args: input.args }),
      run_timeout: runTimeoutMs,
    };
  }

  /** The engine turns an oversized body into an opaque 400; say what is too big instead. */
  private assertFitsEngineBody(request: PistonExecuteRequest): void {
    const limit = this.config.engine.bodyLimitBytes;
    const size = Buffer.byteLength(JSON.stringify(request));
    if (size <= limit) return;
    const largest = request.files
      .map((file, index) => ({
        name: file.name ?? (index === 0 ? '(code)' : `files[${index - 1}]`),
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
