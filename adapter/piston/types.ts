/** Piston API v2 shapes, as observed from v3.1.1 and as written in Piston's current master. */

export interface PistonRuntime {
  language: string;
  version: string;
  aliases: string[];
  /** Present only for multi-language packages (gcc, node, ...). */
  runtime?: string;
}

export interface PistonFile {
  name?: string;
  content: string;
  encoding?: 'utf8' | 'base64' | 'hex';
}

export interface PistonExecuteRequest {
  language: string;
  version: string;
  files: PistonFile[];
  stdin?: string;
  args?: string[];
  run_timeout?: number;
  compile_timeout?: number;
}

/** Master only: why a stage stopped. */
export type PistonStageStatus = 'TO' | 'OL' | 'EL' | 'RE' | 'SG' | 'XX';

export interface PistonStage {
  stdout: string;
  stderr: string;
  output: string;
  code: number | null;
  signal: string | null;
  // Master only:
  status?: PistonStageStatus | null;
  message?: string | null;
  memory?: number | null;
  cpu_time?: number | null;
  wall_time?: number | null;
}

export interface PistonExecuteResponse {
  language: string;
  version: string;
  /** v3 copies compile into run after a compile error; master omits run then. */
  run?: PistonStage;
  compile?: PistonStage;
}
