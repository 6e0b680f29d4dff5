/**
 * One execution, as Piston's Job does it: wait for a slot, write the files into a fresh job
 * directory, compile (compiled languages), run the entry file unless compiling failed, remove
 * the directory. Stages run with the job directory as working directory, so programs open
 * their other files by relative name.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineConfig } from './config';
import type { JobSlots } from './jobSlots';
import { runStage, type ProcessTools, type StageOutcome } from './stageProcess';
import { reportStage, type MasterStage, type V3Stage } from './stageReport';
import type { JobSpec } from './validation';

export interface JobContext {
  /** Job directories are created here, one per job (Piston: /piston/jobs/<uuid>). */
  jobsDir: string;
  config: EngineConfig;
  tools: ProcessTools;
  slots: JobSlots;
  runningGroups: Set<number>;
}

export interface ExecuteReply {
  compile?: V3Stage | MasterStage;
  run: V3Stage | MasterStage;
  language: string;
  version: string;
}

/** The job failed in a way Piston answers with 500 and an empty body. */
export class JobFailure extends Error {
  override name = 'JobFailure';
}

export async function runJob(job: JobSpec, context: JobContext): Promise<ExecuteReply> {
  const release = await context.slots.acquire();
  try {
    const dir = path.join(context.jobsDir, randomUUID());
    await mkdir(dir, { mode: 0o700 });
    try {
      await writeJobFiles(dir, job);
      return await compileAndRun(dir, job, context);
    } finally {
      await rm(dir, { recursive: true, force: true, maxRetries: 2 });
    }
  } finally {
    release();
  }
}

async function writeJobFiles(dir: string, job: JobSpec): Promise<void> {
  for (const file of job.files) {
    const filePath = path.join(dir, file.name);
    const relative = path.relative(dir, filePath);
    if (relative.startsWith('..')) {
      throw new JobFailure(
        `File path "${file.name}" tries to escape parent directory: ${relative}`,
      );
    }
    await mkdir(path.dirname(filePath), { recursive: true, mode: 0o700 });
    await writeFile(filePath, Buffer.from(file.content, file.encoding));
  }
}

async function compileAndRun(
  dir: string,
  job: JobSpec,
  context: JobContext,
): Promise<ExecuteReply> {
  const { config, tools, runningGroups } = context;
  const { runtime } = job;
  const stage = (
    script: string,
    args: readonly string[],
    timeoutMs: number,
    memoryLimit: number,
  ): Promise<StageOutcome> =>
    runStage({
      script,
      args,
      cwd: dir,
      // Piston gives a stage its package's variables and PISTON_LANGUAGE, not the server's.
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        PISTON_LANGUAGE: runtime.language,
      },
      stdin: job.stdin,
      timeoutMs,
      memoryLimit,
      outputMaxSize: config.outputMaxSize,
      maxOpenFiles: config.maxOpenFiles,
      maxFileSize: config.maxFileSize,
      tools,
      runningGroups,
    });

  // Only utf8 files are code: they are what the compiler gets (base64/hex files are data).
  const codeFiles = job.files.filter((file) => file.encoding === 'utf8').map((file) => file.name);
  let compile: StageOutcome | undefined;
  if (runtime.compileScript !== null) {
    compile = await stage(
      runtime.compileScript,
      codeFiles,
      job.timeouts.compile,
      job.memoryLimits.compile,
    );
  }
  const compileFailed = compile !== undefined && (compile.killedFor !== null || compile.code !== 0);
  const run = compileFailed
    ? undefined
    : await stage(
        runtime.runScript,
        [job.entryFile.name, ...job.args],
        job.timeouts.run,
        job.memoryLimits.run,
      );

  const compileReport = compile === undefined ? undefined : reportStage(compile, config.dialect);
  // After a failed compile, both Piston generations answer with `run` a copy of `compile`
  // (api/v2.js: "Backward compatibility when the run stage is not started").
  const runReport = run === undefined ? compileReport : reportStage(run, config.dialect);
  if (runReport === undefined) throw new JobFailure('neither stage ran');
  return {
    ...(compileReport === undefined ? {} : { compile: compileReport }),
    run: runReport,
    language: runtime.language,
    version: runtime.version,
  };
}
