/**
 * The registry and allocator: which identifier holds which session, the ready sessions kept
 * for new identifiers, the cap, cooldown expiry and stopping. Launching a session is injected
 * (a SessionLauncher), so the concurrency rules here are unit-tested without processes.
 *
 * Concurrency rule: every decision (reuse, reject, reserve) is made synchronously, before any
 * await, so there is no lock to hold and none is ever held across a session start. A session
 * is registered (its slot reserved) before its launch begins, and every way a launch or a
 * session can end goes through `forget`, which frees the slot.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../adapter/logging/logger';
import { PoolError, poolErrors } from './poolErrors';

/** A running session, as its launcher hands it over. */
export interface SessionHandle {
  /** Loopback port its adapter listens on. */
  readonly port: number;
  /** The adapter's pid. */
  readonly pid: number;
  /** Pids of every engine the adapter launched so far. */
  enginePids(): number[];
  /** Resolves once the session's processes are gone, however they ended. */
  readonly exited: Promise<string>;
  /** Stops the session and resolves once nothing of it is left (processes, files). */
  stop(): Promise<void>;
}

export interface LaunchRequest {
  /** The pool's own name for the session (s1, s2, ...), for logs and folders. */
  sessionId: string;
  /**
   * Aborted when the session is stopped before it finished starting; the launcher must then
   * leave nothing behind and reject.
   */
  signal: AbortSignal;
}

/** Starts one session; rejects with a SessionStartError (or any Error) saying why not. */
export type SessionLauncher = (request: LaunchRequest) => Promise<SessionHandle>;

export class SessionStartError extends Error {
  /** The processes that were tried, if any, for the log. */
  adapterPid: number | null = null;
  enginePids: number[] = [];

  constructor(message: string) {
    super(message);
    this.name = 'SessionStartError';
  }
}

export interface SessionPoolOptions {
  maxSessions: number;
  readySessions: number;
  cooldownMs: number;
  launch: SessionLauncher;
  logger: Logger;
  /** Wall clock, for timestamps in getSession; injectable for tests. */
  now?: () => number;
  /** First delay before refilling again after a ready session failed to start. */
  refillBackoffMs?: number;
  refillBackoffMaxMs?: number;
}

type SessionState = 'starting' | 'running' | 'stopping';
type StopReason = 'stopSession' | 'cooldown' | 'exited' | 'pool shutdown';

interface PoolSession {
  id: string;
  identifier: string | null;
  state: SessionState;
  handle: SessionHandle | null;
  /** Settles when the launch does; never rejects (see `launchSession`). */
  started: Promise<SessionHandle | SessionStartError>;
  abort: AbortController;
  createdAt: number;
  allocatedAt: number | null;
  lastAccessedAt: number | null;
  inFlight: number;
  requests: number;
  expiryTimer: NodeJS.Timeout | null;
  /** Bumped on every access: an etag that changes whenever expiresAt does. */
  version: number;
}

/** What a caller holds while its request is forwarded. */
export interface Lease {
  readonly sessionId: string;
  readonly port: number;
  /** Ends the request's hold on the session; idempotent. The cooldown runs from here. */
  release(): void;
}

/** Azure's SessionView (getSession / listSessions). */
export interface SessionView {
  identifier: string;
  etag: string;
  expiresAt: string;
  createdAt: string;
  lastAccessedAt: string | null;
}

export interface SessionSummary {
  sessionId: string;
  identifier: string | null;
  state: 'starting' | 'ready' | 'allocated' | 'stopping';
  port: number | null;
  adapterPid: number | null;
  enginePids: number[];
  inFlight: number;
  requests: number;
  createdAt: string;
  lastAccessedAt: string | null;
  expiresAt: string | null;
}

export interface PoolCounters {
  allocations: number;
  allocationsFromReady: number;
  reuses: number;
  rejections: number;
  expiries: number;
  stops: number;
  startFailures: number;
  unexpectedExits: number;
}

export interface PoolStatus {
  maxSessions: number;
  readySessions: number;
  cooldownSeconds: number;
  /** Sessions held by identifiers (starting or running). */
  allocated: number;
  /** Started sessions waiting for an identifier. */
  ready: number;
  /** Sessions starting for the ready pool, not yet held by anyone. */
  warming: number;
  stopping: number;
  counters: PoolCounters;
  sessions: SessionSummary[];
}

/**
 * Events: 'sessionGone' (session, port | null) whenever a session leaves the pool for good,
 * so whoever keeps connections to it can drop them.
 */
export class SessionPool extends EventEmitter {
  private readonly options: Required<Omit<SessionPoolOptions, 'logger' | 'launch'>> &
    Pick<SessionPoolOptions, 'logger' | 'launch'>;
  /** Every session that still counts against the cap: starting or running, held or not. */
  private readonly live = new Set<PoolSession>();
  private readonly byIdentifier = new Map<string, PoolSession>();
  /** Sessions on their way out; only awaited at shutdown. */
  private readonly stopping = new Map<PoolSession, Promise<void>>();
  private readonly counters: PoolCounters = {
    allocations: 0,
    allocationsFromReady: 0,
    reuses: 0,
    rejections: 0,
    expiries: 0,
    stops: 0,
    startFailures: 0,
    unexpectedExits: 0,
  };
  private nextId = 1;
  private closed = false;
  private refillBlockedUntil = 0;
  private refillBackoffMs: number;
  private refillTimer: NodeJS.Timeout | null = null;

  constructor(options: SessionPoolOptions) {
    super();
    this.options = {
      now: Date.now,
      refillBackoffMs: 1_000,
      refillBackoffMaxMs: 30_000,
      ...options,
    };
    this.refillBackoffMs = this.options.refillBackoffMs;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /** Starts the ready sessions; call once. */
  start(): void {
    this.refill();
  }

  /**
   * The session for `identifier`, allocating one if it has none: a ready session when there
   * is one, else a new one. Rejects with a PoolError: 429 at the cap, 503 when the session
   * cannot start (with the reason), 503 when it was stopped while starting.
   */
  async acquire(identifier: string): Promise<Lease> {
    if (this.closed) throw shuttingDown();
    let session = this.byIdentifier.get(identifier);
    if (session !== undefined) {
      this.counters.reuses += 1;
      this.logger.info({ identifier, sessionId: session.id }, 'session reused');
    } else {
      if (this.byIdentifier.size >= this.options.maxSessions) {
        this.counters.rejections += 1;
        this.logger.warn(
          { identifier, maxSessions: this.options.maxSessions },
          'allocation rejected: pool at maxSessions',
        );
        throw poolErrors.poolFull(this.options.maxSessions);
      }
      session = this.allocate(identifier);
    }
    // Held from here, synchronously: a cooldown firing while we wait cannot take it.
    const held = session;
    held.inFlight += 1;
    held.requests += 1;
    this.touch(held);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.inFlight -= 1;
      this.touch(held);
    };
    const outcome = await held.started;
    if (held.state === 'stopping') {
      release();
      throw new PoolError(
        503,
        'SessionStopped',
        `the session for '${identifier}' was stopped before it could answer; send the request again for a fresh one`,
      );
    }
    if (outcome instanceof SessionStartError) {
      release();
      throw new PoolError(
        503,
        'SessionStartFailed',
        `the session for '${identifier}' failed to start: ${outcome.message}`,
      );
    }
    return { sessionId: held.id, port: outcome.port, release };
  }

  /** POST /.management/stopSession: frees the slot at once, resolves when it is gone. */
  async stopSession(identifier: string): Promise<void> {
    const session = this.byIdentifier.get(identifier);
    if (session === undefined) throw poolErrors.notFound(identifier);
    this.counters.stops += 1;
    this.logger.info({ identifier, sessionId: session.id }, 'session stopped on request');
    await this.stop(session, 'stopSession');
  }

  getSession(identifier: string): SessionView {
    const session = this.byIdentifier.get(identifier);
    if (session === undefined) throw poolErrors.notFound(identifier);
    return this.view(session);
  }

  listSessions(): SessionView[] {
    return [...this.byIdentifier.values()].map((session) => this.view(session));
  }

  status(): PoolStatus {
    const unheld = this.unheld();
    return {
      maxSessions: this.options.maxSessions,
      readySessions: this.options.readySessions,
      cooldownSeconds: this.options.cooldownMs / 1000,
      allocated: this.byIdentifier.size,
      ready: unheld.filter((session) => session.state === 'running').length,
      warming: unheld.filter((session) => session.state === 'starting').length,
      stopping: this.stopping.size,
      counters: { ...this.counters },
      sessions: [...this.live, ...this.stopping.keys()].map((session) => this.summary(session)),
    };
  }

  /** Stops every session, starting ones included; resolves when all are gone. */
  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.refillTimer !== null) clearTimeout(this.refillTimer);
    for (const session of [...this.live]) void this.stop(session, 'pool shutdown');
    await Promise.all(this.stopping.values());
  }

  private allocate(identifier: string): PoolSession {
    // A running ready session first, else one still warming up: it started earlier than any
    // new one would.
    const unheld = this.unheld();
    const ready =
      unheld.find((session) => session.state === 'running') ??
      unheld.find((session) => session.state === 'starting');
    const session = ready ?? this.launchSession();
    session.identifier = identifier;
    session.allocatedAt = this.options.now();
    this.byIdentifier.set(identifier, session);
    this.counters.allocations += 1;
    if (ready !== undefined) this.counters.allocationsFromReady += 1;
    this.logger.info(
      {
        identifier,
        sessionId: session.id,
        from: ready === undefined ? 'new' : ready.state === 'running' ? 'ready' : 'warming',
        allocated: this.byIdentifier.size,
        maxSessions: this.options.maxSessions,
      },
      'session allocated',
    );
    this.refill();
    return session;
  }

  /** Registers a session (reserving its slot) and starts launching it. */
  private launchSession(): PoolSession {
    const session: PoolSession = {
      id: `s${this.nextId++}`,
      identifier: null,
      state: 'starting',
      handle: null,
      // Set below, once the launch (which needs this object) is under way.
      started: Promise.resolve(new SessionStartError('not launched')),
      abort: new AbortController(),
      createdAt: this.options.now(),
      allocatedAt: null,
      lastAccessedAt: null,
      inFlight: 0,
      requests: 0,
      expiryTimer: null,
      version: 0,
    };
    this.live.add(session);
    const launchedAt = performance.now();
    let launch: Promise<SessionHandle>;
    try {
      launch = this.options.launch({ sessionId: session.id, signal: session.abort.signal });
    } catch (error) {
      launch = Promise.reject(error);
    }
    session.started = launch.then(
      (handle) => this.onStarted(session, handle, launchedAt),
      (error: unknown) => this.onStartFailed(session, error),
    );
    return session;
  }

  private onStarted(
    session: PoolSession,
    handle: SessionHandle,
    launchedAt: number,
  ): SessionHandle {
    session.handle = handle;
    void handle.exited.then((reason) => this.onExited(session, reason));
    if (session.state === 'stopping') return handle; // stop() awaits `started` and stops it
    session.state = 'running';
    this.refillBackoffMs = this.options.refillBackoffMs;
    this.logger.info(
      {
        sessionId: session.id,
        identifier: session.identifier,
        port: handle.port,
        adapterPid: handle.pid,
        enginePids: handle.enginePids(),
        startMs: Math.round(performance.now() - launchedAt),
      },
      session.identifier === null ? 'ready session started' : 'session started',
    );
    return handle;
  }

  private onStartFailed(session: PoolSession, error: unknown): SessionStartError {
    const reason = error instanceof Error ? error.message : String(error);
    const failure = error instanceof SessionStartError ? error : new SessionStartError(reason);
    if (session.state === 'stopping') return failure; // aborted on purpose: not a failure
    this.counters.startFailures += 1;
    this.logger.error(
      {
        sessionId: session.id,
        identifier: session.identifier,
        reason,
        adapterPid: failure.adapterPid ?? undefined,
        enginePids: failure.enginePids,
      },
      'session failed to start',
    );
    this.forget(session);
    if (session.identifier === null) {
      // A ready session that cannot start would fail again at once: back off the refill.
      this.refillBlockedUntil = Date.now() + this.refillBackoffMs;
      this.refillBackoffMs = Math.min(this.refillBackoffMs * 2, this.options.refillBackoffMaxMs);
    }
    this.refill();
    return failure;
  }

  private onExited(session: PoolSession, reason: string): void {
    if (session.state === 'stopping') return;
    this.counters.unexpectedExits += 1;
    this.logger.error(
      { sessionId: session.id, identifier: session.identifier, reason },
      'session exited unexpectedly; its slot is free and its identifier gets a fresh session',
    );
    // Its processes may have left an engine behind; stopping leaves nothing.
    void this.stop(session, 'exited');
  }

  private stop(session: PoolSession, reason: StopReason): Promise<void> {
    const already = this.stopping.get(session);
    if (already !== undefined) return already;
    session.state = 'stopping';
    this.forget(session);
    session.abort.abort();
    const done = (async () => {
      try {
        const outcome = await session.started;
        if (!(outcome instanceof SessionStartError)) await outcome.stop();
      } catch (error) {
        this.logger.error({ err: error, sessionId: session.id }, 'stopping a session failed');
      } finally {
        this.stopping.delete(session);
        this.emit('sessionGone', session.id, session.handle?.port ?? null);
        this.logger.info(
          {
            sessionId: session.id,
            identifier: session.identifier,
            reason,
            adapterPid: session.handle?.pid,
            enginePids: session.handle?.enginePids(),
          },
          'session stopped',
        );
      }
    })();
    this.stopping.set(session, done);
    this.refill();
    return done;
  }

  /** Sessions no identifier holds: ready, or starting to be. */
  private unheld(): PoolSession[] {
    return [...this.live].filter((session) => session.identifier === null);
  }

  /** Frees the session's slot and identifier. Idempotent. */
  private forget(session: PoolSession): void {
    this.live.delete(session);
    if (session.identifier !== null && this.byIdentifier.get(session.identifier) === session) {
      this.byIdentifier.delete(session.identifier);
    }
    if (session.expiryTimer !== null) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
  }

  /** Starts sessions until `readySessions` wait unheld, within the cap. */
  private refill(): void {
    if (this.closed) return;
    const wait = this.refillBlockedUntil - Date.now();
    if (wait > 0) {
      if (this.refillTimer === null) {
        this.refillTimer = setTimeout(() => {
          this.refillTimer = null;
          this.refill();
        }, wait);
        this.refillTimer.unref();
      }
      return;
    }
    let unheld = this.unheld().length;
    while (unheld < this.options.readySessions && this.live.size < this.options.maxSessions) {
      this.launchSession();
      unheld += 1;
    }
  }

  /** A request began or ended: the cooldown restarts, and only runs while none is in flight. */
  private touch(session: PoolSession): void {
    session.lastAccessedAt = this.options.now();
    session.version += 1;
    if (session.expiryTimer !== null) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    if (session.inFlight > 0 || !this.isAllocated(session)) return;
    session.expiryTimer = setTimeout(() => this.expire(session), this.options.cooldownMs);
    session.expiryTimer.unref();
  }

  /** Held by its identifier still: not stopped, failed or exited since. */
  private isAllocated(session: PoolSession): boolean {
    return session.identifier !== null && this.byIdentifier.get(session.identifier) === session;
  }

  private expire(session: PoolSession): void {
    session.expiryTimer = null;
    if (session.inFlight > 0 || !this.isAllocated(session)) return;
    this.counters.expiries += 1;
    this.logger.info(
      {
        identifier: session.identifier,
        sessionId: session.id,
        cooldownSeconds: this.options.cooldownMs / 1000,
      },
      'session expired after its cooldown',
    );
    void this.stop(session, 'cooldown');
  }

  private view(session: PoolSession): SessionView {
    return {
      identifier: session.identifier as string,
      etag: `${session.id}-${session.version}`,
      expiresAt: iso(this.expiresAt(session)),
      createdAt: iso(session.allocatedAt ?? session.createdAt),
      lastAccessedAt: session.lastAccessedAt === null ? null : iso(session.lastAccessedAt),
    };
  }

  /** While a request is in flight the session cannot expire; say a cooldown from now. */
  private expiresAt(session: PoolSession): number {
    const from = session.inFlight > 0 ? this.options.now() : (session.lastAccessedAt ?? 0);
    return from + this.options.cooldownMs;
  }

  private summary(session: PoolSession): SessionSummary {
    const state =
      session.state === 'stopping'
        ? 'stopping'
        : session.identifier !== null
          ? 'allocated'
          : session.state === 'running'
            ? 'ready'
            : 'starting';
    return {
      sessionId: session.id,
      identifier: session.identifier,
      state,
      port: session.handle?.port ?? null,
      adapterPid: session.handle?.pid ?? null,
      enginePids: session.handle?.enginePids() ?? [],
      inFlight: session.inFlight,
      requests: session.requests,
      createdAt: iso(session.createdAt),
      lastAccessedAt: session.lastAccessedAt === null ? null : iso(session.lastAccessedAt),
      expiresAt:
        session.identifier === null || session.state === 'stopping'
          ? null
          : iso(this.expiresAt(session)),
    };
  }
}

function shuttingDown(): PoolError {
  return new PoolError(503, 'SessionPoolShuttingDown', 'the session pool is shutting down');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
