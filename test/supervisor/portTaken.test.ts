/**
 * Two adapters, one engine port: the second one's engine cannot bind it, and the second
 * adapter must say so, on /health and on every execution, and never serve through the first
 * adapter's engine, which answers on that port all along.
 */
import { findFreePort } from '../../adapter/supervisor/freePort';
import { commandLine, startAdapter, type AdapterProcess } from '../support/adapterProcess';
import { LOCAL_ENGINE_MAIN, PROCESS_DEADLINE_MS } from '../support/localEngine';

jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const adapters: AdapterProcess[] = [];
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.cleanup()));
});

const withLocalEngine = (enginePort: number, env: Record<string, string> = {}) => {
  const adapter = startAdapter((dir) => ({
    ENGINE_COMMAND: commandLine(process.execPath, LOCAL_ENGINE_MAIN),
    LOCAL_ENGINE_LANGUAGES: 'bash',
    TMPDIR: dir,
    ENGINE_PORT: String(enginePort),
    ...env,
  }));
  adapters.push(adapter);
  return adapter;
};

interface ErrorBody {
  error: { code: string; message: string };
}

test('the second adapter reports the taken port, retries, and never uses the other engine', async () => {
  const port = await findFreePort();
  const first = withLocalEngine(port);
  await first.ingressPort(PROCESS_DEADLINE_MS);

  const second = withLocalEngine(port, {
    ENGINE_START_TIMEOUT_MS: '20000',
    ENGINE_RESTART_MAX_BACKOFF_MS: '200',
  });
  await second.ingressPort(PROCESS_DEADLINE_MS);
  const taken = `engine port 127.0.0.1:${port} is taken by another process`;

  const health = await second.request('GET', '/health');
  expect(health.status).toBe(503);
  expect((health.json as ErrorBody).error.message).toContain(taken);
  for (let i = 0; i < 5; i += 1) {
    const reply = await second.request('POST', '/bash/execute', {
      properties: { code: 'echo hi' },
    });
    expect(reply.status).toBe(503);
    expect((reply.json as ErrorBody).error.message).toContain(taken);
  }
  // Retried with backoff, each time saying why.
  await second.waitForLog((line) => line.msg === 'engine exited' && Number(line.restart) >= 2, {
    timeoutMs: PROCESS_DEADLINE_MS,
  });
  expect(second.logs.some((line) => line.msg === 'engine ready')).toBe(false);
  // The first adapter's engine served it all along.
  const own = await first.request('POST', '/bash/execute', { properties: { code: 'echo hi' } });
  expect(own.status).toBe(200);
});
