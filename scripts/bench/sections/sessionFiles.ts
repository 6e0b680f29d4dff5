/**
 * Session files: an execution in a session holding 100 files of 1 MB against one in an empty
 * session, on two adapters supervising the zero-work engine (shared file system, as with
 * pre-isolate Piston), so any cost the files add to an execution is the whole difference.
 * Session files are no longer read into the request; what remains per execution is the
 * survey of the folder after the job (see adapter/files/folderSurvey.ts). Runs alternate.
 */
import type { BenchRow, BenchSection } from '../types';
import { addLoad, runLoad } from '../support/load';
import { info, ratio, rps, target } from '../support/rows';
import { startAdapter, zeroEngineCommand, type AdapterService } from '../support/services';

const SECTION = 'session-files';
const FILES = 100;
const FILE_BYTES = 1024 * 1024;
const CONNECTIONS = 16;
const ROUNDS = 4;
const SECONDS_PER_RUN = 4;
const IDENTIFIER = 'bench-session';
const BODY = JSON.stringify({ properties: { code: 'print(1)' } });

async function fill(adapter: AdapterService): Promise<void> {
  const content = new Blob([Buffer.alloc(FILE_BYTES, 'x')]);
  for (let index = 0; index < FILES; index += 1) {
    const form = new FormData();
    form.append('file', content, `data-${index}.csv`);
    const response = await fetch(`${adapter.url}/files/upload?identifier=${IDENTIFIER}`, {
      method: 'POST',
      body: form,
    });
    if (response.status !== 200) {
      throw new Error(`upload ${index} answered ${response.status}: ${await response.text()}`);
    }
  }
}

export const sessionFilesSection: BenchSection = async (context) => {
  const adapters: AdapterService[] = [];
  const rows: BenchRow[] = [];
  try {
    const env = { ENGINE_COMMAND: zeroEngineCommand(context.repoRoot) };
    const empty = await startAdapter(context.repoRoot, env);
    adapters.push(empty);
    const full = await startAdapter(context.repoRoot, env);
    adapters.push(full);
    context.progress(`session-files: uploading ${FILES} files of ${FILE_BYTES} bytes`);
    await fill(full);

    const runs = [
      { name: 'empty', adapter: empty, responses: 0, seconds: 0, failures: 0 },
      { name: `${FILES} x 1 MB`, adapter: full, responses: 0, seconds: 0, failures: 0 },
    ];
    const urlOf = (adapter: AdapterService) =>
      `${adapter.url}/python/execute?identifier=${IDENTIFIER}`;
    for (const run of runs) {
      await runLoad({ url: urlOf(run.adapter), body: BODY, connections: 4, durationSeconds: 1 });
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const run of runs) {
        context.progress(`session-files: ${run.name}, round ${round + 1}`);
        const result = await runLoad({
          url: urlOf(run.adapter),
          body: BODY,
          connections: CONNECTIONS,
          durationSeconds: SECONDS_PER_RUN,
        });
        addLoad(run, result);
      }
    }
    const [emptyRun, fullRun] = runs as [(typeof runs)[0], (typeof runs)[0]];
    const rate = (run: (typeof runs)[0]) => run.responses / run.seconds;
    const value = rate(fullRun) / rate(emptyRun);
    rows.push(
      info(
        SECTION,
        `execute throughput, empty session / ${FILES} x 1 MB @${CONNECTIONS} conn`,
        `${rps(rate(emptyRun))} / ${rps(rate(fullRun))}`,
      ),
      target(
        SECTION,
        `execute throughput, ${FILES} x 1 MB session / empty session`,
        ratio(value),
        '>= 0.95',
        value >= 0.95,
      ),
    );
    const failed = runs.filter((run) => run.failures > 0);
    if (failed.length > 0) {
      rows.push(
        info(
          SECTION,
          'non-200 or failed',
          failed.map((r) => `${r.name}: ${r.failures}`).join(', '),
        ),
      );
    }
  } finally {
    for (const adapter of adapters.reverse()) await adapter.stop();
  }
  return rows;
};
