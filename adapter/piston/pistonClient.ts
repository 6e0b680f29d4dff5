import http from 'node:http';
import { linkedSignal } from '../timing/deadline';
import { classifyEngineFailure, EngineError } from './engineError';
import { httpExchange } from './httpExchange';
import type { PistonExecuteResponse, PistonRuntime } from './types';

export interface PistonClientOptions {
  /** Upper bound on sockets to the engine; beyond it requests wait in the agent's queue. */
  connections: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Whole-call deadline, from sending to the last byte of the answer. */
  timeoutMs: number;
}

/**
 * Talks Piston API v2 over a pool of kept-alive connections. Opening a connection per
 * request costs more than the whole adapter hop, so sockets are reused; the pool bounds them.
 */
export class PistonClient {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(
    readonly baseUrl: string,
    options: PistonClientOptions,
  ) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: options.connections,
      maxFreeSockets: options.connections,
      // Most recently used first: the socket least likely to have been closed by the engine.
      scheduling: 'lifo',
      // Piston (express on node:http) closes idle sockets after 5 s and says so in its
      // Keep-Alive header, which the agent honours; this bounds engines that do not say.
      timeout: 4_000,
    });
  }

  async runtimes(options: CallOptions): Promise<PistonRuntime[]> {
    const body = await this.call('GET', '/api/v2/runtimes', undefined, options);
    if (!Array.isArray(body)) {
      throw new EngineError('bad_response', 'engine runtimes list is not an array', { body });
    }
    return body as PistonRuntime[];
  }

  /**
   * Runs one job. It comes serialised: the caller has already measured it against the
   * engine's body limit, and a 100 kB job is not worth stringifying twice.
   */
  async execute(serializedJob: string, options: CallOptions): Promise<PistonExecuteResponse> {
    const body = await this.call('POST', '/api/v2/execute', serializedJob, options);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new EngineError('bad_response', 'engine execute answer is not a JSON object', { body });
    }
    return body as PistonExecuteResponse;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    payload: string | undefined,
    options: CallOptions,
  ): Promise<unknown> {
    // One controller and one timer per call: AbortSignal.timeout plus AbortSignal.any cost
    // several times more on the hot path (weak refs, and signals GC must chase).
    const linked = linkedSignal([options.signal], options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await httpExchange(this.base, this.agent, {
        method,
        path,
        ...(payload !== undefined && { body: payload }),
        signal: linked.signal,
      });
      status = response.status;
      text = response.text;
    } catch (error) {
      if (linked.signal.aborted && !options.signal?.aborted) {
        throw new EngineError(
          'timeout',
          `engine did not answer ${method} ${path} within ${options.timeoutMs} ms`,
          { cause: error },
        );
      }
      throw classifyEngineFailure(error, options.signal);
    } finally {
      linked.dispose();
    }
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (status >= 400) {
      throw new EngineError('bad_status', describeEngineRejection(status, parsed), {
        status,
        body: parsed,
      });
    }
    if (parsed === undefined || typeof parsed === 'string') {
      throw new EngineError('bad_response', `engine answered ${status} without JSON`, {
        status,
        body: parsed,
      });
    }
    return parsed;
  }
}

/** Piston's error bodies are {message}, {stack} or empty; keep the first line that says why. */
function describeEngineRejection(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const { message, stack } = body as { message?: unknown; stack?: unknown };
    if (typeof message === 'string' && message) return message;
    if (typeof stack === 'string' && stack) return stack.split('\n')[0] ?? stack;
  }
  if (typeof body === 'string' && body) return body.slice(0, 200);
  return `engine answered ${status} with no reason`;
}
