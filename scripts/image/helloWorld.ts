/**
 * The build's last word on each runtime: a hello world run through the engine itself, as a
 * session would run it. A runtime built for another Debian that misses a shared library, or a
 * package whose `run` script is broken, fails the build here instead of in the pool.
 */

export const GREETING = 'hello world';

/** One program per Piston language name; each prints GREETING and a newline. */
export const HELLO_PROGRAMS: Readonly<Record<string, string>> = {
  python: `print("${GREETING}")\n`,
  javascript: `console.log("${GREETING}");\n`,
  typescript: `console.log("${GREETING}");\n`,
  bash: `echo "${GREETING}"\n`,
  c: `#include <stdio.h>\nint main(void) { puts("${GREETING}"); return 0; }\n`,
  'c++': `#include <iostream>\nint main() { std::cout << "${GREETING}" << std::endl; return 0; }\n`,
  d: `import std.stdio;\nvoid main() { writeln("${GREETING}"); }\n`,
  fortran: `program hello\n  print '(a)', '${GREETING}'\nend program hello\n`,
  java: `public class Main {\n  public static void main(String[] args) { System.out.println("${GREETING}"); }\n}\n`,
  go: `package main\nimport "fmt"\nfunc main() { fmt.Println("${GREETING}") }\n`,
  rust: `fn main() { println!("${GREETING}"); }\n`,
  ruby: `puts "${GREETING}"\n`,
  php: `<?php\necho "${GREETING}\\n";\n`,
  perl: `print "${GREETING}\\n";\n`,
  lua: `print("${GREETING}")\n`,
};

export interface RuntimeRef {
  language: string;
  version: string;
}

/** What the engine said about one run (Piston API v2's execute answer, the parts used). */
export interface RunResult {
  /** Non-2xx answers carry Piston's message instead of a run. */
  status: number;
  message?: string;
  run?: { stdout: string; stderr: string; code: number | null; signal: string | null };
  compile?: { stdout: string; stderr: string; code: number | null; signal: string | null };
}

export type Execute = (runtime: RuntimeRef, program: string) => Promise<RunResult>;

/** Runs the hello world of every runtime; resolves with one line per failure (empty: all ran). */
export async function checkHelloWorld(runtimes: RuntimeRef[], execute: Execute): Promise<string[]> {
  const failures: string[] = [];
  for (const runtime of runtimes) {
    const name = `${runtime.language}-${runtime.version}`;
    const program = HELLO_PROGRAMS[runtime.language];
    if (program === undefined) {
      failures.push(
        `${name}: no hello-world program is known for "${runtime.language}" (add one to scripts/image/helloWorld.ts)`,
      );
      continue;
    }
    let result: RunResult;
    try {
      result = await execute(runtime, program);
    } catch (error) {
      failures.push(`${name}: the engine did not answer: ${(error as Error).message}`);
      continue;
    }
    const why = whyNotGreeted(result);
    if (why !== null) failures.push(`${name}: ${why}`);
  }
  return failures;
}

function whyNotGreeted(result: RunResult): string | null {
  if (result.status !== 200 || result.run === undefined) {
    return `the engine answered HTTP ${result.status}: ${result.message ?? 'no message'}`;
  }
  const { run, compile } = result;
  if (compile !== undefined && compile.code !== 0) {
    return `compiling failed (code ${compile.code}, signal ${compile.signal}): ${tail(compile.stderr || compile.stdout)}`;
  }
  if (run.stdout.trim() === GREETING && run.code === 0) return null;
  return (
    `printed ${JSON.stringify(tail(run.stdout))} instead of "${GREETING}" ` +
    `(exit code ${run.code}, signal ${run.signal}); stderr: ${JSON.stringify(tail(run.stderr))}`
  );
}

/** The end of a long output, where the reason usually is. */
function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= 500 ? trimmed : `...${trimmed.slice(-500)}`;
}
