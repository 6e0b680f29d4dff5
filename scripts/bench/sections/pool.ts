/**
 * The local session pool (`npm run pool`): how long a new identifier's first request takes
 * with a ready session and without one, and what forwarding through the pool adds to a
 * request compared with calling the session's adapter directly.
 *
 * Runs the built emulator (dist/scripts/pool/main.js) as a process with real sessions. Also
 * runnable alone after `npm run build`: `node dist/scripts/bench/sections/pool.js`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'undici';
import type { BenchContext, BenchRow, BenchSection } from '../types';

const SECTION = 'pool';
/** New identifiers timed per case: each costs a session start. */
const FIRST_REQUESTS = 5;
const SEQUENTIAL_REQUESTS = 500;
const CONCURRENT_CONNECTIONS = 16;
const CONCURRENT_REQUESTS = 4_000;
const EXECUTE_BODY = JSON.stringify({
  properties: { codeInputType: 'inline', executionType: 'synchronous', code: 'print(1)' },
});

export const poolSection: BenchSection = async (context) => {
  const rows: BenchRow[] = [];
  rows.push(...(await firstRequests(context, 1)));
  rows.push(...(await firstRequests(context, 0)));
  rows.push(...(await forwardingOverhead(context)));
  return rows;
};

/** A new identifier's first execution, `FIRST_REQUESTS` times, with that many ready sessions. */
async function firstRequests(context: BenchContext, readySessions: number): Promise<BenchRow[]> {
  const emulator = await PoolUnderTest.start(context, {
    POOL_MAX_SESSIONS: '2',
    POOL_READY_SESSIONS: String(readySessions),
  });
  try {
    const firsts: number[] = [];
    const seconds: number[] = [];
    for (let i = 0; i < FIRST_REQUESTS; i += 1) {
      if (readySessions > 0) await emulator.waitUntilReady(readySessions);
      const identifier = `bench-${readySessions}-${i}`;
      firsts.push(await emulator.timedExecute(identifier));
      seconds.push(await emulator.timedExecute(identifier));
      context.progress(`pool: first request (ready ${readySessions}) ${ms(firsts.at(-1) ?? 0)}`);
      await emulator.post(`/.management/stopSession?identifier=${identifier}`);
    }
    const what = readySessions > 0 ? 'a ready session' : 'no ready session';
    const rows: BenchRow[] = [
      {
        section: SECTION,
        metric: `first request of a new identifier, ${what} (median of ${FIRST_REQUESTS})`,
        value: ms(percentile(firsts, 50)),
      },
    ];
    // For scale: the same execution once the session has run one.
    if (readySessions > 0) {
      rows.push({
        section: SECTION,
        metric: 'second request of the same identifier (median)',
        value: ms(percentile(seconds, 50)),
      });
    }
    return rows;
  } finally {
    await emulator.stop();
  }
}

/** The same requests straight to a session and through the pool, interleaved. */
async function forwardingOverhead(context: BenchContext): Promise<BenchRow[]> {
  const emulator = await PoolUnderTest.start(context, {
    POOL_MAX_SESSIONS: '1',
    POOL_READY_SESSIONS: '0',
  });
  try {
    const identifier = 'bench-forwarding';
    const viaPool = `/health?identifier=${identifier}`;
    await emulator.post(`/code/execute?identifier=${identifier}`, EXECUTE_BODY);
    const port = await emulator.sessionPort(identifier);
    const direct = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENT_CONNECTIONS });
    try {
      const get = (client: Pool) => () => timedGet(client, viaPool);
      // Warm both paths (connections, JIT) before measuring.
      for (let i = 0; i < 100; i += 1) {
        await get(direct)();
        await get(emulator.client)();
      }
      const directTimes: number[] = [];
      const poolTimes: number[] = [];
      for (let i = 0; i < SEQUENTIAL_REQUESTS; i += 1) {
        directTimes.push(await get(direct)());
        poolTimes.push(await get(emulator.client)());
      }
      context.progress('pool: sequential forwarding measured');
      const directRate = await throughput(get(direct));
      const poolRate = await throughput(get(emulator.client));
      context.progress('pool: concurrent forwarding measured');
      const added = (p: number) => percentile(poolTimes, p) - percentile(directTimes, p);
      return [
        {
          section: SECTION,
          metric: `forwarding overhead p50, GET /health sequential (n=${SEQUENTIAL_REQUESTS})`,
          value: `+${ms(added(50))} (direct ${ms(percentile(directTimes, 50))}, via pool ${ms(percentile(poolTimes, 50))})`,
        },
        {
          section: SECTION,
          metric: 'forwarding overhead p99, GET /health sequential',
          value: `+${ms(added(99))} (direct ${ms(percentile(directTimes, 99))}, via pool ${ms(percentile(poolTimes, 99))})`,
        },
        {
          section: SECTION,
          metric: `throughput via pool / direct, GET /health @${CONCURRENT_CONNECTIONS} connections`,
          value: `${(poolRate / directRate).toFixed(2)} (${Math.round(poolRate)} vs ${Math.round(directRate)} req/s)`,
        },
      ];
    } finally {
      await direct.close();
    }
  } finally {
    await emulator.stop();
  }
}

async function timedGet(client: Pool, urlPath: string): Promise<number> {
  const started = performance.now();
  const reply = await client.request({ method: 'GET', path: urlPath });
  await reply.body.text();
  if (reply.statusCode !== 200) throw new Error(`GET ${urlPath} answered ${reply.statusCode}`);
  return performance.now() - started;
}

/** Requests per second with CONCURRENT_CONNECTIONS callers each sending one after another. */
async function throughput(request: () => Promise<number>): Promise<number> {
  let remaining = CONCURRENT_REQUESTS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENT_CONNECTIONS }, async () => {
      while (remaining > 0) {
        remaining -= 1;
        await request();
      }
    }),
  );
  return CONCURRENT_REQUESTS / ((performance.now() - started) / 1000);
}

/** The emulator as a child process, with a keep-alive client to it. */
class PoolUnderTest {
  private constructor(
    private readonly child: ChildProcess,
    readonly client: Pool,
    private readonly exited: Promise<void>,
  ) {}

  static async start(context: BenchContext, env: Record<string, string>): Promise<PoolUnderTest> {
    const main = path.join(context.repoRoot, 'dist/scripts/pool/main.js');
    const child = spawn(process.execPath, [main], {
      cwd: context.repoRoot,
      env: { ...process.env, POOL_PORT: '0', POOL_COOLDOWN_SECONDS: '600', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const port = await new Promise<number>((resolve, reject) => {
      let rest = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          const parsed = safeJson(line);
          if (parsed?.msg === 'pool listening') resolve(parsed.port as number);
        }
      });
      void exited.then(() => reject(new Error('the pool exited before listening')));
    });
    child.stdout?.resume();
    return new PoolUnderTest(
      child,
      new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENT_CONNECTIONS }),
      exited,
    );
  }

  /** One `print(1)` execution for `identifier`, in milliseconds. */
  async timedExecute(identifier: string): Promise<number> {
    const started = performance.now();
    const reply = await this.client.request({
      method: 'POST',
      path: `/code/execute?identifier=${identifier}`,
      headers: { 'content-type': 'application/json' },
      body: EXECUTE_BODY,
    });
    await reply.body.text();
    if (reply.statusCode !== 200) throw new Error(`execution answered ${reply.statusCode}`);
    return performance.now() - started;
  }

  async post(urlPath: string, body?: string): Promise<void> {
    const reply = await this.client.request({
      method: 'POST',
      path: urlPath,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body,
    });
    await reply.body.text();
    if (reply.statusCode !== 200) throw new Error(`POST ${urlPath} answered ${reply.statusCode}`);
  }

  async status(): Promise<{
    ready: number;
    sessions: Array<{ identifier: string | null; port: number | null }>;
  }> {
    const reply = await this.client.request({ method: 'GET', path: '/.pool/status' });
    return (await reply.body.json()) as Awaited<ReturnType<PoolUnderTest['status']>>;
  }

  async waitUntilReady(count: number): Promise<void> {
    const deadline = performance.now() + 60_000;
    while ((await this.status()).ready < count) {
      if (performance.now() > deadline) throw new Error('no ready session within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async sessionPort(identifier: string): Promise<number> {
    const session = (await this.status()).sessions.find((s) => s.identifier === identifier);
    if (session?.port == null) throw new Error(`no session for ${identifier}`);
    return session.port;
  }

  async stop(): Promise<void> {
    await this.client.close();
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

function safeJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(2)} ms`;
}

if (require.main === module) {
  const context: BenchContext = {
    progress: (message) => process.stderr.write(`${message}\n`),
    // dist/scripts/bench/sections -> the repository root.
    repoRoot: path.resolve(__dirname, '../../../..'),
  };
  poolSection(context).then(
    (rows) => {
      for (const row of rows) process.stdout.write(`${row.section}  ${row.metric}: ${row.value}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
