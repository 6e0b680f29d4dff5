/**
 * Smoke test of a built image (scripts/image/smoke.sh IMAGE): runs one container of it with
 * docker or podman, as a pool would (no --init, no privileges, loopback port), and checks what
 * unit tests cannot: /health comes up, every installed language prints hello world, an upload
 * is readable from code, timed-out and backgrounded jobs leave no zombies, memory at idle, and
 * a stop (with a request in flight) exits 0 in time. Prints one line per check with its figure;
 * exits 1 if any check failed.
 *
 * Settings: SMOKE_ENGINE (docker|podman; default podman when installed, else docker),
 * SMOKE_RUN_ARGS (extra `run` arguments, split on spaces), SMOKE_START_TIMEOUT_S (120).
 */
import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { GREETING, HELLO_PROGRAMS } from './helloWorld';

const run = promisify(execFile);

/** Figures the image should meet, printed beside what was measured. */
const ADAPTER_RSS_TARGET_MB = 70;
const STOP_TARGET_MS = 5_000;
const JOBS_PER_KIND = 3;

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const checks: Check[] = [];
function record(name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}\n`);
}

function pickEngine(): string {
  const wanted = process.env.SMOKE_ENGINE;
  if (wanted) return wanted;
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return 'podman';
  } catch {
    return 'docker';
  }
}

const engine = pickEngine();
const name = `psa-smoke-${process.pid}`;

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(engine, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function until<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | null>,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Processes in the container: state, rss (kB) and command line. */
async function processes(): Promise<Array<{ stat: string; rssKb: number; args: string }>> {
  const out = await cli('exec', name, 'ps', '-eo', 'stat=,rss=,args=');
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [stat = '', rss = '0', ...args] = line.trim().split(/\s+/);
      return { stat, rssKb: Number(rss), args: args.join(' ') };
    });
}

async function zombies(): Promise<number> {
  return (await processes()).filter((p) => p.stat.startsWith('Z')).length;
}

async function memory(label: string): Promise<void> {
  const list = await processes();
  const mb = (matcher: (args: string) => boolean) =>
    Math.round(list.filter((p) => matcher(p.args)).reduce((sum, p) => sum + p.rssKb, 0) / 1024);
  const adapter = mb((args) => args.includes('dist/adapter/main.js'));
  const piston = mb((args) => /piston_api\/src|node src$/.test(args));
  record(
    `memory ${label}`,
    label !== 'idle' || adapter <= ADAPTER_RSS_TARGET_MB,
    `adapter RSS ${adapter} MB${label === 'idle' ? ` (target <= ${ADAPTER_RSS_TARGET_MB} MB)` : ''}, Piston RSS ${piston} MB`,
  );
}

interface Executed {
  status: number;
  body: { properties?: Record<string, unknown>; error?: { message?: string } };
}

async function execute(
  base: string,
  language: string,
  code: string,
  extra: Record<string, unknown> = {},
): Promise<Executed> {
  const response = await fetch(`${base}/${encodeURIComponent(language)}/execute?identifier=smoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ properties: { code, ...extra } }),
  });
  return { status: response.status, body: (await response.json()) as Executed['body'] };
}

async function main(): Promise<void> {
  const image = process.argv[2];
  if (!image) throw new Error('usage: scripts/image/smoke.sh IMAGE');
  const extra = (process.env.SMOKE_RUN_ARGS ?? '').split(' ').filter((a) => a !== '');
  const startTimeoutMs = Number(process.env.SMOKE_START_TIMEOUT_S ?? '120') * 1000;
  process.stdout.write(`smoke: ${engine} run ${image} as ${name}\n`);
  const started = Date.now();
  await cli('run', '-d', '--name', name, '-p', '127.0.0.1::2000', ...extra, image);
  try {
    const port = (await cli('port', name, '2000/tcp')).trim().split('\n')[0]?.split(':').pop();
    const base = `http://127.0.0.1:${port}`;
    await until('GET /health 200', startTimeoutMs, async () =>
      (await fetch(`${base}/health`)).status === 200 ? true : null,
    );
    record(
      'start',
      true,
      `/health 200 after ${Date.now() - started} ms (container created to healthy)`,
    );
    await checkStatusPage(base);
    await memory('idle');
    await checkLanguages(base);
    await checkFiles(base);
    await checkZombies(base);
    await memory('after the jobs');
    await checkStop(base);
  } catch (error) {
    record('smoke run', false, (error as Error).message);
    const logs = await run(engine, ['logs', '--tail', '30', name]).catch(() => null);
    if (logs) process.stdout.write(`--- last log lines ---\n${logs.stdout}${logs.stderr}\n`);
  } finally {
    await run(engine, ['rm', '-f', name]).catch(() => undefined);
  }
  const failed = checks.filter((check) => !check.ok);
  process.stdout.write(
    `smoke: ${checks.length - failed.length} of ${checks.length} checks passed\n`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

async function checkStatusPage(base: string): Promise<void> {
  const status = (await (await fetch(`${base}/`)).json()) as {
    runtimes?: unknown[];
    version?: string;
  };
  const count = status.runtimes?.length ?? 0;
  record(
    'GET / before any other request',
    count > 0,
    `${count} runtimes listed, adapter ${status.version}`,
  );
}

async function checkLanguages(base: string): Promise<void> {
  const listed = (await (await fetch(`${base}/runtimes`)).json()) as {
    runtimes: Array<{ language: string; version: string }>;
  };
  for (const runtime of listed.runtimes) {
    const program = HELLO_PROGRAMS[runtime.language];
    if (program === undefined) {
      record(`run ${runtime.language}`, false, 'no hello-world program known for it');
      continue;
    }
    const t0 = Date.now();
    const result = await execute(base, runtime.language, program);
    const props = result.body.properties ?? {};
    const stdout = typeof props.stdout === 'string' ? props.stdout.trim() : '';
    record(
      `run ${runtime.language}-${runtime.version}`,
      result.status === 200 && props.status === 'Success' && stdout === GREETING,
      `HTTP ${result.status}, ${String(props.status)}, stdout ${JSON.stringify(stdout)}, ${Date.now() - t0} ms`,
    );
  }
}

async function checkFiles(base: string): Promise<void> {
  const content = `smoke-${process.pid}-${Date.now()}`;
  const form = new FormData();
  form.append('file', new Blob([content]), 'smoke.txt');
  const upload = await fetch(`${base}/files/upload?identifier=smoke`, {
    method: 'POST',
    body: form,
  });
  record('upload', upload.status === 200 || upload.status === 201, `HTTP ${upload.status}`);
  const read = await execute(
    base,
    'python',
    "import os\nprint(open('/mnt/data/smoke.txt').read())\nprint(sorted(os.listdir('/mnt/data')))\n",
  );
  const lines = String(read.body.properties?.stdout ?? '')
    .trim()
    .split('\n');
  record(
    'read the upload from code',
    lines[0] === content,
    `first line ${JSON.stringify(lines[0])}`,
  );
  record(
    "/mnt/data shows only the session's files",
    lines[1] === "['smoke.txt']",
    `os.listdir gives ${lines[1]}`,
  );
}

async function checkZombies(base: string): Promise<void> {
  const before = await zombies();
  const timeouts = await Promise.all(
    Array.from({ length: JOBS_PER_KIND }, () =>
      execute(base, 'python', 'import time\ntime.sleep(100)\n', { timeoutInSeconds: 1 }),
    ),
  );
  const timedOut = timeouts.filter((r) => r.body.properties?.stopReason === 'timeout').length;
  record(
    'timeouts',
    timedOut === JOBS_PER_KIND,
    `${timedOut} of ${JOBS_PER_KIND} stopped by timeout`,
  );
  for (let i = 0; i < JOBS_PER_KIND; i += 1) {
    await execute(base, 'bash', 'sleep 100 &\necho started\n');
  }
  // Orphans are reaped as they die: give them a moment to, then count what is left.
  const left = await until('zombies gone', 5_000, async () => {
    const count = await zombies();
    return count === 0 ? 0 : null;
  }).catch(() => zombies());
  record(
    'zombies',
    left === 0,
    `${left} left after ${JOBS_PER_KIND} timeouts and ${JOBS_PER_KIND} background jobs (${before} before)`,
  );
}

async function checkStop(base: string): Promise<void> {
  const inFlight = execute(base, 'python', 'import time\ntime.sleep(2)\nprint("done")\n');
  await until('the request is in flight', 10_000, async () => {
    const status = (await (await fetch(`${base}/`)).json()) as { executionsInFlight?: number };
    return (status.executionsInFlight ?? 0) > 0 ? true : null;
  });
  const t0 = Date.now();
  await cli('stop', '-t', '15', name);
  const stopMs = Date.now() - t0;
  const finished = await inFlight.catch((error: Error) => error);
  const completed =
    !(finished instanceof Error) &&
    String(finished.body.properties?.stdout ?? '').trim() === 'done';
  const exitCode = (await cli('inspect', name, '--format', '{{.State.ExitCode}}')).trim();
  record(
    'stop',
    exitCode === '0' && stopMs <= STOP_TARGET_MS && completed,
    `exit code ${exitCode} after ${stopMs} ms (target <= ${STOP_TARGET_MS} ms); request in flight ${completed ? 'completed' : `did not complete: ${finished instanceof Error ? finished.message : JSON.stringify(finished.body)}`}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`smoke: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
