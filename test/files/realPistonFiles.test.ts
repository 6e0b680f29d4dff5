import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAdapter, type AdapterProcess } from '../support/adapterProcess';

/**
 * Session files against a real pre-isolate Piston v3.1.1, whose jobs run as a new runner uid
 * each time (contract section 5): a file one job writes must stay changeable and deletable by
 * the next job's uid. Needs REAL_PISTON_CMD (a command that runs Piston in the foreground,
 * honouring PISTON_BIND_ADDRESS) and root, as Piston does; skipped, saying so, otherwise.
 */

const command = process.env['REAL_PISTON_CMD'];
const isRoot = process.getuid?.() === 0;
const enabled = command !== undefined && command !== '' && isRoot;
if (!enabled) {
  process.stdout.write(
    `skipped: realPistonFiles.test.ts needs ${command ? '' : 'REAL_PISTON_CMD and '}root (no real Piston here)\n`,
  );
}
const describeReal = enabled ? describe : describe.skip;

const OWNER = 'real-files-1';
let adapter: AdapterProcess;
let base: string;
let holder: string;
let filesDir: string;

async function run(language: string, code: string): Promise<string> {
  const response = await fetch(
    `${base}/${encodeURIComponent(language)}/execute?identifier=${OWNER}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { code, timeoutInSeconds: 10 } }),
    },
  );
  const json = (await response.json()) as {
    properties?: { status?: string; stdout?: string; stderr?: string };
  };
  if (response.status !== 200 || json.properties?.status !== 'Success') {
    throw new Error(`${language} failed: ${response.status} ${JSON.stringify(json)}`);
  }
  return json.properties.stdout ?? '';
}

describeReal('session files on a real Piston (runner uids change every job)', () => {
  beforeAll(async () => {
    // Jobs run as other uids: every folder above FILES_DIR must let them through.
    holder = mkdtempSync(path.join(os.tmpdir(), 'psa-real-files-'));
    chmodSync(holder, 0o755);
    filesDir = path.join(holder, 'data');
    adapter = startAdapter({
      ENGINE_COMMAND: command as string,
      FILES_DIR: filesDir,
      PYTHON_RESULT: 'true',
      DEFAULT_TIMEOUT_SECONDS: '10',
      MAX_TIMEOUT_SECONDS: '10',
      PISTON_RUN_TIMEOUT: '15000',
      PISTON_OUTPUT_MAX_SIZE: '65536',
      // A uid range of its own, so jobs of other Piston instances on this machine are not
      // killed with ours (each instance cleans up after its uids).
      PISTON_RUNNER_UID_MIN: '1301',
      PISTON_RUNNER_UID_MAX: '1350',
      PISTON_RUNNER_GID_MIN: '1301',
      PISTON_RUNNER_GID_MAX: '1350',
    });
    base = `http://127.0.0.1:${await adapter.ingressPort(60_000)}`;
  }, 90_000);

  afterAll(async () => {
    await adapter?.cleanup();
    rmSync(holder, { recursive: true, force: true });
  });

  test("one job's files are read, changed and deleted by the next jobs' uids", async () => {
    const folder = JSON.stringify(filesDir);
    const written = await run(
      'c',
      `#include <stdio.h>
#include <unistd.h>
int main(void){FILE*f=fopen(${JSON.stringify(path.join(filesDir, 'from_c.txt'))},"w");
if(!f){perror("fopen");return 1;} fputs("c",f); fclose(f); printf("%d\\n",(int)getuid()); return 0;}`,
    );
    const bash = await run(
      'bash',
      `id -u; cd ${folder} && printf '+bash' >> from_c.txt && mkdir -p sub && echo x > sub/y.txt`,
    );
    const python = await run(
      'python',
      "import os\nprint(os.getuid())\nopen('from_c.txt', 'a').write('+py')\nos.remove('sub/y.txt')\nos.rmdir('sub')\nprint(open('/mnt/data/from_c.txt').read())",
    );
    const uids = [written, bash, python].map((out) => out.split('\n')[0]);
    expect(new Set(uids).size).toBe(3);
    expect(python.split('\n')[1]).toBe('c+bash+py');
    const download = await fetch(`${base}/files/content/from_c.txt?identifier=${OWNER}`);
    expect(await download.text()).toBe('c+bash+py');
    const ended = await fetch(`${base}/session?identifier=${OWNER}`, { method: 'DELETE' });
    expect(((await ended.json()) as { filesRemoved: number }).filesRemoved).toBe(1);
  }, 60_000);
});
