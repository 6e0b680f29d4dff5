import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT, startAdapter, type AdapterProcess } from '../support/adapterProcess';

/**
 * Every client of Azure's code interpreter in ../shared/contract.md (sections 2 and 3), replayed
 * as it sends its requests (paths, query strings, headers, bodies, multipart uploads), against
 * the real supervisor running the local engine with real Python. Each test asserts on exactly
 * the keys its client reads back. Each test uses its own session identifier.
 */

const LOCAL_ENGINE = path.join(REPO_ROOT, 'dist/scripts/local-engine/main.js');
const escapeSpaces = (part: string) => part.replace(/ /g, '\\ ');

let adapter: AdapterProcess;
let base: string;

beforeAll(async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: `${escapeSpaces(process.execPath)} ${escapeSpaces(LOCAL_ENGINE)}`,
    PYTHON_RESULT: 'true',
  });
  base = await readyBase(adapter);
}, 30_000);

afterAll(async () => {
  await adapter.cleanup();
});

// One container is one session: each test ends its session as a closing client does, so the
// next test's identifier finds the container free (a pool would give it a container of its own).
afterEach(async () => {
  await fetch(`${base}/session`, { method: 'DELETE' });
});

async function readyBase(process: AdapterProcess): Promise<string> {
  const port = await process.ingressPort(20_000);
  return `http://127.0.0.1:${port}`;
}

const newIdentifier = () => `e2e-${randomUUID()}`;

/** What a client library sends with every call; the container must not depend on any of it. */
const clientHeaders = (userAgent: string) => ({
  authorization: 'Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake.token',
  'user-agent': userAgent,
});

async function postJson(url: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function upload(
  url: string,
  fileName: string,
  content: string,
  headers: Record<string, string>,
) {
  const form = new FormData();
  form.append('file', new Blob([content], { type: 'application/octet-stream' }), fileName);
  const response = await fetch(url, { method: 'POST', headers, body: form });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

type Json = Record<string, unknown>;
const at = (value: unknown, key: string): unknown => (value as Json)[key];

describe('generation A: LangChain SessionsPythonREPLTool (Python and JS)', () => {
  const headers = clientHeaders('langchain-azure-dynamic-sessions/0.2.0 (Language=Python)');
  const query = (id: string) => `api-version=2024-02-02-preview&identifier=${id}`;

  it('executes code and reads properties.result, stdout and stderr', async () => {
    const id = newIdentifier();
    const { status, json } = await postJson(
      `${base}/code/execute?${query(id)}`,
      {
        properties: {
          codeInputType: 'inline',
          executionType: 'synchronous',
          code: "print('hi')\n1 + 1",
        },
      },
      headers,
    );
    expect(status).toBe(200);
    const properties = at(json, 'properties');
    expect(at(properties, 'result')).toBe(2);
    expect(at(properties, 'stdout')).toBe('hi\n');
    expect(at(properties, 'stderr')).toBe('');
  });

  it('uploads, lists and downloads a file, and code reads it in the next request', async () => {
    const id = newIdentifier();
    const uploaded = await upload(
      `${base}/files/upload?${query(id)}`,
      'data.csv',
      'a,b\n1,2\n',
      headers,
    );
    expect(uploaded.status).toBe(200);
    const metadata = at((at(uploaded.json, 'value') as unknown[])[0], 'properties');
    expect(at(metadata, 'filename')).toBe('data.csv');
    expect(at(metadata, 'size')).toBe(8);

    const listed = await fetch(`${base}/files?${query(id)}`, { headers });
    const names = (
      (await listed.json()) as { value: { properties: { filename: string } }[] }
    ).value.map((entry) => entry.properties.filename);
    expect(names).toEqual(['data.csv']);

    const downloaded = await fetch(`${base}/files/content/data.csv?${query(id)}`, { headers });
    expect(downloaded.status).toBe(200);
    expect(await downloaded.text()).toBe('a,b\n1,2\n');

    const { json } = await postJson(
      `${base}/code/execute?${query(id)}`,
      {
        properties: {
          codeInputType: 'inline',
          executionType: 'synchronous',
          code: "rows = open('data.csv').read().split()\nlen(rows)",
        },
      },
      headers,
    );
    expect(at(at(json, 'properties'), 'stderr')).toBe('');
    expect(at(at(json, 'properties'), 'result')).toBe(2);
  });
});

describe('generation A: Semantic Kernel SessionsPythonTool (Python)', () => {
  const headers = clientHeaders('semantic-kernel-python/1.0 (python 3.11)');

  it('sends timeoutInSeconds 100 and reads every key of properties', async () => {
    const id = newIdentifier();
    const { status, json } = await postJson(
      `${base}/code/execute?identifier=${id}&api-version=2024-02-02-preview`,
      {
        properties: {
          codeInputType: 'inline',
          executionType: 'synchronous',
          code: "raise ValueError('bad input')",
          timeoutInSeconds: 100,
        },
      },
      headers,
    );
    expect(status).toBe(200);
    const properties = at(json, 'properties') as Json;
    for (const key of ['status', 'result', 'stdout', 'stderr'])
      expect(properties).toHaveProperty(key);
    expect(properties.status).toBe('Failure');
    expect(properties.result).toBe('');
    expect(properties.stderr).toMatch(/^Traceback \(most recent call last\):\n {2}File "main.py"/);
    expect(properties.stderr).toMatch(/ValueError: bad input\n$/);
  });

  it('uploads with a /mnt/data/ file name, which is stripped, and code opens /mnt/data/...', async () => {
    const id = newIdentifier();
    const uploaded = await upload(
      `${base}/files/upload?identifier=${id}&api-version=2024-02-02-preview`,
      '/mnt/data/report.txt',
      'quarterly numbers',
      headers,
    );
    expect(uploaded.status).toBe(200);
    const properties = at((at(uploaded.json, 'value') as unknown[])[0], 'properties');
    expect(at(properties, 'filename')).toBe('report.txt');
    expect(typeof at(properties, 'lastModifiedTime')).toBe('string');

    const { json } = await postJson(
      `${base}/code/execute?identifier=${id}&api-version=2024-02-02-preview`,
      { properties: { code: "open('/mnt/data/report.txt').read()", timeoutInSeconds: 100 } },
      headers,
    );
    expect(at(at(json, 'properties'), 'result')).toBe('quarterly numbers');
  });
});

describe('generation A: AutoGen ACADynamicSessionsCodeExecutor', () => {
  it('runs code that changes to /mnt/data first, and reads status', async () => {
    const id = newIdentifier();
    const headers = clientHeaders('autogen-ext/0.4');
    await upload(
      `${base}/files/upload?identifier=${id}&api-version=2024-02-02-preview`,
      'in.txt',
      'x',
      headers,
    );
    const { json } = await postJson(
      `${base}/code/execute?api-version=2024-02-02-preview&identifier=${id}`,
      {
        properties: {
          codeInputType: 'inline',
          executionType: 'synchronous',
          code: "import os\nos.chdir('/mnt/data')\nprint(open('in.txt').read())",
        },
      },
      headers,
    );
    const properties = at(json, 'properties');
    expect(at(properties, 'status')).toBe('Success');
    expect(at(properties, 'stdout')).toBe('x\n');
  });
});

describe('legacy path: LlamaIndex TypeScript AzureDynamicSessionTool', () => {
  it('POST /python/execute with pythonCode; result, stdout, stderr read at the top level', async () => {
    const id = newIdentifier();
    const { status, json } = await postJson(
      `${base}/python/execute`,
      {
        properties: {
          identifier: id,
          codeInputType: 'inline',
          executionType: 'synchronous',
          pythonCode: "import sys\nprint('out')\nprint('err', file=sys.stderr)\n{'answer': 42}",
        },
      },
      clientHeaders('llamaindex-ts'),
    );
    expect(status).toBe(200);
    expect(json.result).toEqual({ answer: 42 });
    expect(json.stdout).toBe('out\n');
    expect(json.stderr).toBe('err\n');
  });
});

describe('generation B: Semantic Kernel .NET (POST /executions)', () => {
  const headers = clientHeaders('Semantic-Kernel');
  const query = (id: string) => `identifier=${id}&api-version=2024-10-02-preview`;

  it('runs a top-level body and answers Succeeded with result.executionResult', async () => {
    const id = newIdentifier();
    const { status, json } = await postJson(
      `${base}/executions?${query(id)}`,
      {
        codeInputType: 'Inline',
        executionType: 'Synchronous',
        code: "print('b')\n6 * 7",
        timeoutInSeconds: 100,
      },
      headers,
    );
    expect(status).toBe(200);
    expect(json.status).toBe('Succeeded');
    expect(json.identifier).toBe(id);
    const result = json.result as Json;
    expect(result.stdout).toBe('b\n');
    expect(result.stderr).toBe('');
    expect(result.executionResult).toBe(42);
    expect(typeof result.executionTimeInMilliseconds).toBe('number');

    // The same execution, fetched again by id; another session cannot see it.
    const again = await fetch(`${base}/executions/${String(json.id)}?${query(id)}`, { headers });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(json);
    const other = await fetch(`${base}/executions/${String(json.id)}?${query(newIdentifier())}`);
    expect(other.status).toBe(404);
  });

  it('a failing program answers Failed', async () => {
    const { json } = await postJson(
      `${base}/executions?${query(newIdentifier())}`,
      { codeInputType: 'Inline', executionType: 'Synchronous', code: 'import sys\nsys.exit(2)' },
      headers,
    );
    expect(json.status).toBe('Failed');
    expect((json.result as Json).executionResult).toBe('');
  });

  it('files: POST /files, GET /files, GET /files/{name}/content, DELETE /files/{name} (204)', async () => {
    const id = newIdentifier();
    const uploaded = await upload(`${base}/files?${query(id)}`, 'notes.txt', 'hello', headers);
    expect(uploaded.status).toBe(200);
    expect(uploaded.json).toMatchObject({ name: 'notes.txt', type: 'File', sizeInBytes: 5 });

    const listed = (await (await fetch(`${base}/files?${query(id)}`)).json()) as { value: Json[] };
    expect(listed.value.map((file) => file.name)).toEqual(['notes.txt']);

    const content = await fetch(`${base}/files/notes.txt/content?${query(id)}`);
    expect(await content.text()).toBe('hello');

    const { json } = await postJson(
      `${base}/executions?${query(id)}`,
      { codeInputType: 'Inline', executionType: 'Synchronous', code: "open('notes.txt').read()" },
      headers,
    );
    expect((json.result as Json).executionResult).toBe('hello');

    const deleted = await fetch(`${base}/files/notes.txt?${query(id)}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const after = (await (await fetch(`${base}/files?${query(id)}`)).json()) as { value: Json[] };
    expect(after.value).toEqual([]);
  });
});

describe('what the pool forwards besides executions', () => {
  it('DELETE /session (clients call it on close) clears the session files', async () => {
    const id = newIdentifier();
    await upload(`${base}/files/upload?identifier=${id}`, 'a.txt', 'a', {});
    const before = await (await fetch(`${base}/session?identifier=${id}`)).json();
    expect(at(at(before, 'files'), 'count')).toBe(1);

    const closed = await fetch(`${base}/session?identifier=${id}`, { method: 'DELETE' });
    expect(closed.status).toBe(200);
    expect(await closed.json()).toMatchObject({ identifier: id, deleted: true, filesRemoved: 1 });
    const listed = (await (await fetch(`${base}/files?identifier=${id}`)).json()) as Json;
    expect(listed.value).toEqual([]);
  });

  it('GET /listSessions and GET /metadata answer JSON, not 404', async () => {
    const id = newIdentifier();
    await fetch(`${base}/session?identifier=${id}`);
    const sessions = (await (await fetch(`${base}/listSessions`)).json()) as { value: Json[] };
    expect(sessions.value.map((session) => session.identifier)).toContain(id);

    const metadata = (await (await fetch(`${base}/metadata`)).json()) as Json;
    expect(metadata.defaultLanguage).toBe('python');
    expect((metadata.languages as Json[]).map((runtime) => runtime.language)).toContain('python');
  });
});
