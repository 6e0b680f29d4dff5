import path from 'node:path';
import {
  commandLine,
  REPO_ROOT,
  startAdapter,
  type AdapterProcess,
} from '../support/adapterProcess';

/**
 * Session files end to end, on real processes: the built supervisor launching the local
 * engine (so the file system is shared, as with pre-isolate Piston in the image), with real
 * Python, gcc, g++ and bash. Locally FILES_DIR plays /mnt/data's part: C, C++ and bash name
 * it by its absolute path, Python by bare name or /mnt/data.
 */

const LOCAL_ENGINE = path.join(REPO_ROOT, 'dist/scripts/local-engine/main.js');
const OWNER = 'owner-1';
/** Several MB: far past the engine's 100 kB body, which session files no longer travel in. */
const BIG_BYTES = 5 * 1024 * 1024 + 7;

let adapter: AdapterProcess;
let base: string;
let filesDir: string;

beforeAll(async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: commandLine(process.execPath, LOCAL_ENGINE),
    PYTHON_RESULT: 'true',
    ENGINE_FILESYSTEM: 'shared',
  });
  base = `http://127.0.0.1:${await adapter.ingressPort(20_000)}`;
  filesDir = path.join(adapter.tempDir, 'files');
}, 30_000);

afterAll(async () => {
  await adapter.cleanup();
});

async function upload(identifier: string, name: string, content: Buffer) {
  const form = new FormData();
  form.append('file', new Blob([content]), name);
  const response = await fetch(`${base}/files/upload?identifier=${identifier}`, {
    method: 'POST',
    body: form,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

interface Answer {
  status: number;
  json: {
    properties?: { stdout?: string; stderr?: string; result?: unknown; status?: string };
    error?: { code?: string; message?: string };
  } & Record<string, unknown>;
}

async function run(language: string, code: string, identifier = OWNER): Promise<Answer> {
  const response = await fetch(
    `${base}/${encodeURIComponent(language)}/execute?identifier=${identifier}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { code, timeoutInSeconds: 30 } }),
    },
  );
  return { status: response.status, json: (await response.json()) as Answer['json'] };
}

function stdoutOf(answer: Answer): string {
  if (answer.status !== 200 || answer.json.properties?.status !== 'Success') {
    throw new Error(`execution failed: ${answer.status} ${JSON.stringify(answer.json)}`);
  }
  return answer.json.properties.stdout ?? '';
}

const inFolder = (name: string) => JSON.stringify(path.join(filesDir, name));

describe('session files where the code is (shared file system, local engine)', () => {
  test('an upload of several MB is read by Python, C, C++ and bash', async () => {
    const big = Buffer.alloc(BIG_BYTES, 'a,b\n');
    expect((await upload(OWNER, 'big.csv', big)).status).toBe(200);

    const python = await run(
      'python',
      "len(open('big.csv').read()), len(open('/mnt/data/big.csv', 'rb').read())",
    );
    expect(stdoutOf(python)).toBe('');
    expect(python.json.properties?.result).toEqual([BIG_BYTES, BIG_BYTES]);

    const c = await run(
      'c',
      `#include <stdio.h>
int main(void) {
  FILE *f = fopen(${inFolder('big.csv')}, "rb");
  if (!f) { perror("fopen"); return 1; }
  long n = 0; while (fgetc(f) != EOF) n++;
  printf("%ld\\n", n); return 0;
}`,
    );
    expect(stdoutOf(c)).toBe(`${BIG_BYTES}\n`);

    const cpp = await run(
      'c++',
      `#include <fstream>
#include <iostream>
#include <iterator>
int main() {
  std::ifstream in(${inFolder('big.csv')}, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::cout << s.size() << std::endl;
}`,
    );
    expect(stdoutOf(cpp)).toBe(`${BIG_BYTES}\n`);

    const bash = await run('bash', `wc -c < ${inFolder('big.csv')}`);
    expect(stdoutOf(bash).trim()).toBe(String(BIG_BYTES));
  }, 60_000);

  test('a text upload never changes how C compiles', async () => {
    expect((await upload(OWNER, 'notes.txt', Buffer.from('not C at all {'))).status).toBe(200);
    const c = await run('c', '#include <stdio.h>\nint main(void){puts("built");return 0;}');
    expect(stdoutOf(c)).toBe('built\n');
  }, 30_000);

  test('files the code writes stay: listed in both shapes, downloaded, seen next time', async () => {
    stdoutOf(await run('python', "open('/mnt/data/chart.txt', 'w').write('from python')"));
    stdoutOf(
      await run(
        'c',
        `#include <stdio.h>
int main(void){FILE*f=fopen(${inFolder('from_c.txt')},"w");fputs("from c",f);fclose(f);return 0;}`,
      ),
    );
    const listed = (await (await fetch(`${base}/files?identifier=${OWNER}`)).json()) as {
      value: {
        name: string;
        sizeInBytes: number;
        properties: { filename: string; size: number };
      }[];
    };
    const chart = listed.value.find((file) => file.name === 'chart.txt');
    expect(chart).toMatchObject({
      sizeInBytes: 11,
      properties: { filename: 'chart.txt', size: 11 },
    });
    expect(listed.value.map((file) => file.properties.filename)).toEqual(
      expect.arrayContaining(['big.csv', 'chart.txt', 'from_c.txt']),
    );

    const generationA = await fetch(`${base}/files/content/chart.txt?identifier=${OWNER}`);
    expect(await generationA.text()).toBe('from python');
    const generationB = await fetch(`${base}/files/from_c.txt/content?identifier=${OWNER}`);
    expect(await generationB.text()).toBe('from c');

    // The next execution, in another language, sees and changes what the last one wrote.
    const bash = await run(
      'bash',
      `cat ${inFolder('chart.txt')}; echo -n ' again' >> ${inFolder('chart.txt')}`,
    );
    expect(stdoutOf(bash)).toBe('from python');
    const again = await fetch(`${base}/files/content/chart.txt?identifier=${OWNER}`);
    expect(await again.text()).toBe('from python again');
  }, 60_000);

  test('a second identifier is refused with 409, never shown the files', async () => {
    const execution = await run('python', "print(open('big.csv').read(10))", 'other-1');
    const listing = await fetch(`${base}/files?identifier=other-1`);
    const upload409 = await upload('other-1', 'mine.txt', Buffer.from('x'));
    expect([execution.status, listing.status, upload409.status]).toEqual([409, 409, 409]);
    expect(execution.json.error?.code).toBe('session_belongs_to_another_identifier');
    expect(JSON.stringify(execution.json)).not.toContain(OWNER);
    expect(JSON.stringify(await listing.json())).not.toContain('big.csv');
  }, 30_000);

  test("the owner's DELETE /session frees the container; then 50 identifiers run at once", async () => {
    const ended = await fetch(`${base}/session?identifier=${OWNER}`, { method: 'DELETE' });
    expect(ended.status).toBe(200);
    expect(((await ended.json()) as { filesRemoved: number }).filesRemoved).toBe(4);
    const identifiers = Array.from({ length: 50 }, (_, index) => `grader-${index}`);
    const answers = await Promise.all(
      identifiers.map((identifier) =>
        run('python', `print(${JSON.stringify(identifier)})`, identifier),
      ),
    );
    answers.forEach((answer, index) => expect(stdoutOf(answer)).toBe(`grader-${index}\n`));
    // Nobody left files: the container is still free for whoever comes next.
    expect((await upload('newcomer-1', 'a.txt', Buffer.from('a'))).status).toBe(200);
  }, 60_000);
});
