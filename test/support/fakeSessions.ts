import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Logger } from '../../adapter/logging/logger';
import {
  SessionStartError,
  type LaunchRequest,
  type SessionHandle,
  type SessionLauncher,
} from '../../scripts/pool/sessionPool';

/**
 * A SessionLauncher whose sessions are not processes: each launch waits until the test
 * resolves or fails it (or resolves at once in `auto` mode), so the pool's concurrency rules
 * can be driven step by step. With `serve`, each session is a small HTTP echo server.
 */
export class FakeLauncher {
  readonly launches: FakeLaunch[] = [];
  auto: boolean;
  private readonly serve: boolean;

  constructor({ auto = true, serve = false } = {}) {
    this.auto = auto;
    this.serve = serve;
  }

  readonly launch: SessionLauncher = (request) => {
    const launch = new FakeLaunch(request, this.serve);
    this.launches.push(launch);
    if (this.auto) void launch.succeed();
    return launch.promise;
  };

  pending(): FakeLaunch[] {
    return this.launches.filter((launch) => launch.outcome === 'pending');
  }

  handles(): FakeHandle[] {
    return this.launches.flatMap((launch) => (launch.handle === null ? [] : [launch.handle]));
  }

  /** Sessions started and not stopped or crashed. */
  running(): FakeHandle[] {
    return this.handles().filter((handle) => handle.state === 'running');
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.handles().map((handle) => handle.stop()));
  }
}

export class FakeLaunch {
  outcome: 'pending' | 'started' | 'failed' | 'aborted' = 'pending';
  handle: FakeHandle | null = null;
  readonly promise: Promise<SessionHandle>;
  private resolve!: (handle: SessionHandle) => void;
  private reject!: (error: Error) => void;

  constructor(
    readonly request: LaunchRequest,
    private readonly serve: boolean,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // As the real launcher: a stop during the start leaves nothing and rejects.
    request.signal.addEventListener('abort', () => {
      if (this.outcome !== 'pending') return;
      this.outcome = 'aborted';
      this.reject(new SessionStartError('it was stopped while starting'));
    });
  }

  get sessionId(): string {
    return this.request.sessionId;
  }

  async succeed(): Promise<FakeHandle | null> {
    if (this.outcome !== 'pending') return null;
    const handle = await FakeHandle.create(this.sessionId, this.serve);
    if (this.outcome !== 'pending') {
      // Aborted while the server was opening.
      await handle.stop();
      return null;
    }
    this.outcome = 'started';
    this.handle = handle;
    this.resolve(handle);
    return handle;
  }

  fail(reason: string): void {
    if (this.outcome !== 'pending') return;
    this.outcome = 'failed';
    this.reject(new SessionStartError(reason));
  }
}

let nextPid = 100_000;

export interface EchoReply {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  session: string;
}

export class FakeHandle implements SessionHandle {
  readonly pid = nextPid++;
  state: 'running' | 'stopped' | 'crashed' = 'running';
  stops = 0;
  readonly exited: Promise<string>;
  private exit!: (reason: string) => void;

  private constructor(
    readonly sessionId: string,
    readonly port: number,
    private readonly server: http.Server | null,
  ) {
    this.exited = new Promise((resolve) => {
      this.exit = resolve;
    });
  }

  static async create(sessionId: string, serve: boolean): Promise<FakeHandle> {
    if (!serve) return new FakeHandle(sessionId, 0, null);
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const reply: EchoReply = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          session: sessionId,
        };
        const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
        res.writeHead(status ? Number(status[1]) : 200, {
          'content-type': 'application/json',
          'x-echo': sessionId,
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeHandle(sessionId, (server.address() as AddressInfo).port, server);
  }

  enginePids(): number[] {
    return [this.pid + 1];
  }

  async stop(): Promise<void> {
    this.stops += 1;
    if (this.state === 'running') this.state = 'stopped';
    await this.closeServer();
    this.exit('stopped');
  }

  /** The session stops answering, and nobody has noticed yet. */
  async stopAnswering(): Promise<void> {
    await this.closeServer();
  }

  /** The session's processes die on their own. */
  async crash(): Promise<void> {
    this.state = 'crashed';
    await this.closeServer();
    this.exit('killed by SIGKILL');
  }

  private async closeServer(): Promise<void> {
    if (this.server === null || !this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** A pino logger that keeps its lines in memory for assertions. */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}

/** Lets every settled promise chain run on. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}
