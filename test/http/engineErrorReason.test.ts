/**
 * An engine 500 with an empty body (what Piston answers for a job it failed) carries the
 * reason the engine logged for it, when its log has one (EngineJobErrors says how the two are
 * matched); without one it still says plainly that the engine gave none.
 */
import request from 'supertest';
import { loadConfig } from '../../adapter/config/config';
import { EngineJobErrors } from '../../adapter/engine/engineJobErrors';
import { EngineState } from '../../adapter/engine/engineState';
import { createApp, type AdapterApp } from '../../adapter/http/app';
import { createLogger } from '../../adapter/logging/logger';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { waitFor } from '../support/waitFor';

let engine: FakeEngine;
let app: AdapterApp;
let jobErrors: EngineJobErrors;

beforeEach(async () => {
  engine = await startFakeEngine();
  jobErrors = new EngineJobErrors();
  const config = loadConfig({
    ENGINE_URL: engine.url,
    LOG_LEVEL: 'silent',
    PYTHON_RESULT: 'false',
  });
  const engineState = new EngineState({ mode: 'attached', url: engine.url, state: 'ready' });
  app = createApp({ config, engineState, logger: createLogger('silent'), jobErrors });
});
afterEach(async () => {
  await app.close();
  await engine.close();
});

test('the reason the engine logged while the call ran is in the answer', async () => {
  let answer: (value?: unknown) => void = () => undefined;
  engine.executeReplies = [
    { status: 500, body: '', raw: true, delay: new Promise((resolve) => (answer = resolve)) },
  ];
  const reply = request(app.app)
    .post('/python/execute')
    .send({ properties: { code: 'x' } });
  const settled = reply.then((r) => r);
  await waitFor(() => engine.received.some((r) => r.path === '/api/v2/execute'));
  jobErrors.record('0ef3728a-5d20-46a1-8860-3c63aae2db3b', 'TypeError: no null bytes');
  answer();
  const response = await settled;
  expect(response.status).toBe(502);
  expect(response.body.error).toMatchObject({ code: 'engine_error', source: 'engine' });
  expect(response.body.error.message).toContain(
    'the engine logged for job 0ef3728a-5d20-46a1-8860-3c63aae2db3b: TypeError: no null bytes',
  );
});

test('no logged reason: the answer says the engine gave none', async () => {
  jobErrors.record('before', 'logged before this call was sent');
  engine.executeReplies = [{ status: 500, body: '', raw: true }];
  const response = await request(app.app)
    .post('/python/execute')
    .send({ properties: { code: 'x' } });
  expect(response.status).toBe(502);
  expect(response.body.error.message).toContain('with no reason');
  expect(response.body.error.message).not.toContain('logged before');
});
