/**
 * Finds the interpreters and compilers installed on this machine and writes, for each, the
 * stage scripts Piston's packages carry (`compile`, `run`), run with bash like Piston runs them.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import semver, { type SemVer } from 'semver';
import type { Runtime } from './runtimes';
import { wrapStageScript, type ProcessTools } from './stageProcess';

interface RuntimeDefinition {
  language: string;
  runtime?: string;
  /** Bash that prints the tool's absolute path, then its version, one per line. */
  probe: string;
  aliases(version: SemVer): string[];
  /** Stage script bodies; the code files (compile) or entry file and args (run) are "$@". */
  compile?(tool: string): string;
  run(tool: string): string;
}

/** Prints where `command` is, then its version; fails when it is not on PATH. */
const probeWith = (command: string, versionCommand: string) =>
  `command -v ${command} && ${versionCommand}`;

/** For tools that print their own real path (past shims and symlinks), then their version. */
const probeSelfReporting = (command: string, reportCommand: string) =>
  `command -v ${command} >/dev/null && ${reportCommand}`;

/** The gcc package's scripts: give each code file its extension, compile all, run a.out. */
function gccScripts(extension: string, flags: string) {
  return {
    compile: (tool: string) =>
      [
        `for file in "$@"; do mv -- "$file" "$file.${extension}"; done`,
        `${shellQuote(tool)} ${flags}`,
        'chmod +x a.out',
      ].join('\n'),
    // The first argument names the entry file, which a compiled program does not need.
    run: () => 'shift\n./a.out "$@"',
  };
}

/** In the order real Piston listed them (runtimes.json). */
const DEFINITIONS: readonly RuntimeDefinition[] = [
  {
    language: 'bash',
    probe: 'printf "%s\\n%s\\n" "$BASH" "$BASH_VERSION"',
    aliases: () => ['sh'],
    run: (tool) => `${shellQuote(tool)} "$@"`,
  },
  {
    language: 'c',
    runtime: 'gcc',
    probe: probeWith('gcc', 'gcc -dumpfullversion'),
    aliases: () => ['gcc'],
    ...gccScripts('c', '-std=c11 *.c -lm'),
  },
  {
    language: 'c++',
    runtime: 'gcc',
    probe: probeWith('g++', 'g++ -dumpfullversion'),
    aliases: () => ['cpp', 'g++'],
    ...gccScripts('cpp', '-std=c++17 *.cpp'),
  },
  {
    language: 'javascript',
    runtime: 'node',
    probe: probeSelfReporting(
      'node',
      `node -e 'process.stdout.write(process.execPath + "\\n" + process.versions.node + "\\n")'`,
    ),
    aliases: () => ['node-javascript', 'node-js', 'javascript', 'js'],
    run: (tool) => `${shellQuote(tool)} "$@"`,
  },
  {
    language: 'python',
    // sys.executable, not the python3 on PATH: a pyenv shim would add tens of ms to each run.
    probe: probeSelfReporting(
      'python3',
      `python3 -c 'import sys, platform; print(sys.executable); print(platform.python_version())'`,
    ),
    aliases: ({ major, minor }) => ['py', 'py3', 'python3', `python${major}.${minor}`],
    run: (tool) => `${shellQuote(tool)} "$@"`,
  },
];

export const KNOWN_LANGUAGES: readonly string[] = DEFINITIONS.map((d) => d.language);

export interface Discovery {
  runtimes: Runtime[];
  /** Languages asked for (or known) but not usable here, with why. */
  missing: { language: string; reason: string }[];
}

/**
 * Probes every known language (or those in `selection`, in its order) and writes the stage
 * scripts of the ones found under `packagesDir/<language>/`.
 */
export async function discoverRuntimes(
  selection: readonly string[] | null,
  packagesDir: string,
): Promise<Discovery> {
  const wanted = selection ?? KNOWN_LANGUAGES;
  const missing: Discovery['missing'] = [];
  const probes = wanted.map(async (language) => {
    const definition = DEFINITIONS.find((d) => d.language === language);
    if (definition === undefined) {
      missing.push({ language, reason: `not one of ${KNOWN_LANGUAGES.join(', ')}` });
      return undefined;
    }
    try {
      return await install(definition, await probe(definition), packagesDir);
    } catch (error) {
      missing.push({ language, reason: (error as Error).message });
      return undefined;
    }
  });
  const runtimes = (await Promise.all(probes)).filter((rt) => rt !== undefined);
  return { runtimes, missing };
}

async function probe(definition: RuntimeDefinition): Promise<{ tool: string; version: SemVer }> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('bash', ['-c', definition.probe], { timeout: 10_000 }, (error, out) =>
      error ? reject(new Error(`probe failed: ${error.message.trim()}`)) : resolve(out),
    );
  });
  const [tool = '', versionLine = ''] = stdout.trim().split('\n');
  const version = toVersion(versionLine);
  if (!path.isAbsolute(tool) || version === null) {
    throw new Error(`probe printed no path and version: ${JSON.stringify(stdout)}`);
  }
  return { tool, version };
}

/** "5.2.15(1)-release" -> 5.2.15, "12" -> 12.0.0: Piston's versions are full semver. */
export function toVersion(text: string): SemVer | null {
  return semver.coerce(text);
}

async function install(
  definition: RuntimeDefinition,
  { tool, version }: { tool: string; version: SemVer },
  packagesDir: string,
): Promise<Runtime> {
  const dir = path.join(packagesDir, definition.language);
  await mkdir(dir, { recursive: true });
  const runScript = path.join(dir, 'run');
  await writeFile(runScript, wrapStageScript(definition.run(tool)));
  let compileScript: string | null = null;
  if (definition.compile) {
    compileScript = path.join(dir, 'compile');
    await writeFile(compileScript, wrapStageScript(definition.compile(tool)));
  }
  const runtime: Runtime = {
    language: definition.language,
    version: version.version,
    aliases: definition.aliases(version),
    compileScript,
    runScript,
  };
  if (definition.runtime !== undefined) runtime.runtime = definition.runtime;
  return runtime;
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** bash (required: it runs every stage), and the optional limit helpers. */
export async function discoverTools(): Promise<ProcessTools | null> {
  const [bash, timeout, prlimit] = await Promise.all(
    ['bash', 'timeout', 'prlimit'].map((name) => findOnPath(name)),
  );
  if (bash === undefined || bash === null) return null;
  return { bash, timeout: timeout ?? null, prlimit: prlimit ?? null };
}

/** The first executable `name` in PATH, like `command -v`. */
export async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return null;
}
