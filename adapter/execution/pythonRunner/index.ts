/**
 * Azure's interpreter answers `print('hi')\n1 + 1` with stdout "hi\n" and result 2, like a
 * Jupyter cell. Piston only runs files, so Python code goes inside a small runner (runner.py)
 * that executes it as `__main__`, evaluates a final expression, and hands its value back out
 * of band (resultFiles.ts) or, where the engine's jobs do not share this file system, on
 * stdout behind a per-execution nonce that code never sees (runnerResult.ts).
 */
export {
  FILE_RESULT_MAX_CHARS,
  RUNNER_FILE_NAME,
  RUNNER_PARTS,
  USER_CODE_NAME,
  resultMaxChars,
  runnerApplies,
  warmUpProgram,
  wrapPythonCode,
  type PythonRunnerProgram,
  type RunnerCodeFiles,
  type RunnerOptions,
} from './program';
export { ResultFiles } from './resultFiles';
export {
  readRunnerOutput,
  type ResultFileContent,
  type RunnerOutput,
  type RunnerReport,
} from './runnerResult';
