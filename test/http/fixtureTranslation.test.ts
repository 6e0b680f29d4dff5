import request from 'supertest';
import { findRuntime } from '../../adapter/piston/runtimeCatalog';
import type { PistonExecuteResponse, PistonRuntime } from '../../adapter/piston/types';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { loadAllFixtures, loadFixture, type PistonFixture } from '../support/fixtures';
import { buildTestApp, type TestApp } from '../support/testApp';

/**
 * Every recorded execute request is re-expressed as an Azure request, sent through the
 * adapter to a fake engine that answers with the recorded reply. Checked both ways: what
 * reached the engine matches the recorded request, and the Azure answer carries the recorded
 * result. Fixtures the Azure dialect cannot express are listed with the reason.
 */
interface PistonBody {
  language: string;
  version: string;
  files: { name?: string; content: string; encoding?: string }[];
  stdin?: string;
  args?: string[];
  run_timeout?: number;
}

const runtimes = loadFixture('runtimes').body as PistonRuntime[];

function notExpressible(fixture: PistonFixture): string | null {
  const { request: req } = fixture;
  if (req.method !== 'POST' || req.path !== '/api/v2/execute') return 'not an execute request';
  if (fixture.status === null) {
    return 'no recorded answer (its client left): the local engine conformance test replays it';
  }
  if (req.body_is_raw) return 'raw body: covered by the bad-input tests';
  if (fixture.status === null) {
    return 'no reply was recorded (the client left): a client leaving is covered by the disconnect tests';
  }
  const body = req.body as Partial<Record<string, unknown>> | null;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body is not an object';
  if (typeof body['language'] !== 'string') return 'language missing or not a string';
  if (!Array.isArray(body['files']) || body['files'].length === 0) return 'no files array';
  const files = body['files'] as { content?: unknown; encoding?: unknown }[];
  if (files.some((file) => typeof file.content !== 'string')) {
    return 'a file content is not a string: refused by the adapter (bad-input tests)';
  }
  const first = files[0] as { encoding?: unknown };
  if (first.encoding !== undefined && first.encoding !== 'utf8') return 'code is not utf8';
  if (body['stdin'] !== undefined && typeof body['stdin'] !== 'string') return 'stdin not a string';
  if (body['args'] !== undefined && !Array.isArray(body['args'])) return 'args not an array';
  for (const key of ['compile_timeout', 'run_memory_limit', 'compile_memory_limit']) {
    if (key in body) return `${key} has no Azure field`;
  }
  const timeout = body['run_timeout'];
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0 && timeout <= 3000)) {
    return 'run_timeout outside the engine range: the adapter clamps it (clamp tests)';
  }
  if (
    (body['files'] as { name?: string }[]).some(
      (f) => f.name !== undefined && f.name.includes('..'),
    )
  ) {
    return 'path escape: refused by the adapter before the engine (bad-input tests)';
  }
  if (
    ['python_args_nul_byte', 'python_file_name_dot', 'python_file_name_trailing_slash'].includes(
      fixture.name,
    )
  ) {
    return 'input Piston answers with an empty 500: refused by the adapter (test/azure/engineInputRules.test.ts)';
  }
  return null;
}

const fixtures = loadAllFixtures();
const expressible = fixtures.filter((fixture) => notExpressible(fixture) === null);

describe('fixture translation: Azure request -> Piston -> Azure response', () => {
  let engine: FakeEngine;
  let adapter: TestApp;

  beforeEach(async () => {
    engine = await startFakeEngine();
    adapter = buildTestApp(engine.url, {
      MAX_TIMEOUT_SECONDS: '220',
      // The recorded requests are plain Piston jobs; the Python result runner has its own tests.
      PYTHON_RESULT: 'false',
    });
  });
  afterEach(async () => {
    await adapter.close();
    await engine.close();
  });

  test('every execute fixture is either replayed or excluded with a reason', () => {
    const executeFixtures = fixtures.filter((f) => f.request.path === '/api/v2/execute');
    const excluded = executeFixtures
      .filter((f) => notExpressible(f) !== null)
      .map((f) => `${f.name}: ${notExpressible(f)}`);
    expect(expressible.length + excluded.length).toBe(executeFixtures.length);
    expect(expressible.length).toBeGreaterThan(30);
  });

  test.each(expressible.map((f) => [f.name, f] as const))('%s', async (_name, fixture) => {
    const piston = fixture.request.body as PistonBody;
    const [main, ...extraFiles] = piston.files;
    const properties: Record<string, unknown> = {
      codeInputType: 'inline',
      executionType: 'synchronous',
      code: main?.content,
      version: piston.version,
      ...(extraFiles.length > 0 && { files: extraFiles }),
      ...(piston.stdin !== undefined && { stdin: piston.stdin }),
      ...(piston.args !== undefined && { args: piston.args }),
      ...(piston.run_timeout !== undefined && { timeoutInSeconds: piston.run_timeout / 1000 }),
    };
    engine.executeReplies = [
      { status: fixture.status ?? 500, body: fixture.body, raw: typeof fixture.body === 'string' },
    ];

    const response = await request(adapter.app)
      .post(
        `/${encodeURIComponent(piston.language)}/execute?identifier=fixture-${fixture.name.replace(/_/g, '-')}`,
      )
      .send({ properties });

    const lookup = findRuntime(runtimes, piston.language, piston.version);
    if (lookup.kind !== 'found') {
      // The adapter answers unknown languages and versions itself, naming what exists.
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe(lookup.kind);
      expect(engine.received.filter((r) => r.path === '/api/v2/execute')).toHaveLength(0);
      return;
    }
    const bodySize = Buffer.byteLength(JSON.stringify(piston));
    if (bodySize > adapter.config.engine.bodyLimitBytes) {
      expect(response.status).toBe(413);
      expect(response.body.error.code).toBe('engine_body_limit');
      expect(response.body.error.message).toContain(String(adapter.config.engine.bodyLimitBytes));
      return;
    }

    const sent = engine.received.find((r) => r.path === '/api/v2/execute');
    expect(sent).toBeDefined();
    const sentBody = sent?.body as PistonBody;
    expect(sentBody.language).toBe(lookup.runtime.language);
    expect(sentBody.version).toBe(lookup.runtime.version);
    expect(sentBody.files.map((f) => f.content)).toEqual(piston.files.map((f) => f.content));
    expect(sentBody.files.slice(1)).toEqual(extraFiles);
    expect(sentBody.stdin).toEqual(piston.stdin);
    expect(sentBody.args).toEqual(piston.args);
    const expectedTimeout =
      piston.run_timeout === undefined || piston.run_timeout === 0
        ? adapter.config.defaultTimeoutSeconds * 1000
        : piston.run_timeout;
    expect(sentBody.run_timeout).toBe(expectedTimeout);

    if (fixture.status === 200) {
      const recorded = fixture.body as PistonExecuteResponse;
      const compileFailed = recorded.compile !== undefined && recorded.compile.code !== 0;
      const stage = compileFailed ? recorded.compile : recorded.run;
      const succeeded = !compileFailed && stage?.code === 0 && stage.signal === null;
      expect(response.status).toBe(200);
      const props = response.body.properties;
      expect(props).toMatchObject({
        $id: '2',
        status: succeeded ? 'Success' : 'Failure',
        stdout: stage?.stdout,
        stderr: stage?.stderr,
        exitCode: stage?.code,
        signal: stage?.signal,
        language: recorded.language,
        version: recorded.version,
      });
      expect(response.body.$id).toBe('1');
      expect(response.body.stdout).toBe(stage?.stdout);
      expect(response.body.stderr).toBe(stage?.stderr);
      expect(response.body.result).toBe(props.result);
      expect(typeof props.executionTimeInMilliseconds).toBe('number');
      if (stage?.signal === 'SIGKILL') expect(props.stopReason).not.toBeNull();
      else expect(props.stopReason).toBeNull();
      if (recorded.compile) expect(props.compile.exitCode).toBe(recorded.compile.code);
      else expect(props.compile).toBeNull();
    } else if (fixture.status !== null && fixture.status >= 500) {
      expect(response.status).toBe(502);
      expect(response.body.error.code).toBe('engine_error');
    } else {
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('engine_rejected_request');
      const message = (fixture.body as { message?: string }).message;
      if (message) expect(response.body.error.message).toContain(message);
    }
  });
});
