import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

/**
 * Checks docker/Dockerfile, .dockerignore and scripts/start.sh without a Docker engine: the
 * Dockerfile is parsed and its references checked against the repository, and start.sh's engine
 * choice is run as a real process against fake Piston trees.
 */

const repoRoot = path.resolve(__dirname, '../..');
const dockerfilePath = path.join(repoRoot, 'docker/Dockerfile');
const startScript = path.join(repoRoot, 'scripts/start.sh');

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

interface CopyStep {
  keyword: string;
  from: string | null;
  sources: string[];
  destination: string;
}

function parseStages(): Stage[] {
  const dockerfile = DockerfileParser.parse(fs.readFileSync(dockerfilePath, 'utf8'));
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image, as, name] = instruction.getArguments().map((a) => a.getValue());
      stages.push({
        image: image ?? '',
        name: as?.toUpperCase() === 'AS' ? (name ?? null) : null,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The global ARG defaults (those before the first FROM). */
function globalArgs(): Map<string, string> {
  const text = fs.readFileSync(dockerfilePath, 'utf8');
  const beforeFirstFrom = text.slice(0, text.search(/^FROM /m));
  const args = new Map<string, string>();
  for (const match of beforeFirstFrom.matchAll(/^ARG (\w+)(?:=(.*))?$/gm)) {
    args.set(match[1] ?? '', (match[2] ?? '').replace(/^"(.*)"$/, '$1'));
  }
  return args;
}

function flagsOf(instruction: Instruction): Map<string, string | null> {
  const withFlags = instruction as Instruction & {
    getFlags?: () => { getName(): string; getValue(): string | null }[];
  };
  return new Map((withFlags.getFlags?.() ?? []).map((f) => [f.getName(), f.getValue()]));
}

function copySteps(stage: Stage): CopyStep[] {
  return stage.instructions
    .filter((i) => i.getKeyword() === 'COPY' || i.getKeyword() === 'ADD')
    .map((i) => {
      const content = (i.getArgumentsContent() ?? '').trim();
      const values = content.startsWith('[')
        ? (JSON.parse(content) as string[])
        : i.getArguments().map((a) => a.getValue());
      return {
        keyword: i.getKeyword(),
        from: flagsOf(i).get('from') ?? null,
        sources: values.slice(0, -1),
        destination: values.at(-1) ?? '',
      };
    });
}

function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of stage.instructions.filter((i) => i.getKeyword() === 'ENV')) {
    for (const arg of line.getArguments().map((a) => a.getValue())) {
      const at = arg.indexOf('=');
      if (at > 0) env.set(arg.slice(0, at), arg.slice(at + 1));
    }
  }
  return env;
}

/** The JSON array after an instruction keyword (or after HEALTHCHECK's CMD), continuations joined. */
function jsonArgs(instruction: Instruction, after = ''): string[] {
  const content = (instruction.getArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ');
  return JSON.parse(content.slice(content.indexOf(after) + after.length).trim()) as string[];
}

function contextCopies(stages: Stage[]): CopyStep[] {
  return stages.flatMap(copySteps).filter((step) => step.from === null);
}

function filesUnder(relative: string): string[] {
  const absolute = path.join(repoRoot, relative);
  if (!fs.statSync(absolute).isDirectory()) return [relative];
  return fs.readdirSync(absolute).flatMap((entry) => filesUnder(path.posix.join(relative, entry)));
}

/** .dockerignore semantics: Go filepath.Match plus `**`, last matching rule wins, parents count. */
function dockerignoreMatcher(text: string): (relative: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix.normalize((negate ? line.slice(1) : line).replace(/^\/+/, ''));
      let source = '';
      for (let i = 0; i < pattern.length; i += 1) {
        const char = pattern[i] ?? '';
        if (char === '*' && pattern[i + 1] === '*') {
          i += 1;
          if (pattern[i + 1] === '/') {
            i += 1;
            source += '(?:.*/)?';
          } else {
            source += '.*';
          }
        } else if (char === '*') source += '[^/]*';
        else if (char === '?') source += '[^/]';
        else if (char === '[') {
          const end = pattern.indexOf(']', i);
          source += pattern.slice(i, end + 1).replace('[!', '[^');
          i = end;
        } else if (char === '\\') {
          i += 1;
          source += (pattern[i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        } else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      return { regex: new RegExp(`^${source}$`), negate };
    });
  return (relative) => {
    const parts = path.posix.normalize(relative).split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) excluded = !rule.negate;
    }
    return excluded;
  };
}

describe('docker/Dockerfile', () => {
  const stages = parseStages();
  const finalStage = stages.at(-1) as Stage;
  const buildStage = stages.find((stage) => stage.name === 'build') as Stage;
  const entrypoint = (): string[] => {
    const entrypoints = finalStage.instructions.filter((i) => i.getKeyword() === 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    return jsonArgs(entrypoints[0] as Instruction);
  };

  it('has a build stage on an official Node LTS image and a final stage on PISTON_IMAGE', () => {
    expect(buildStage).toBeDefined();
    const nodeMajor = Number(globalArgs().get('NODE_MAJOR'));
    expect(buildStage.image).toBe('node:${NODE_MAJOR}-bookworm-slim');
    expect(nodeMajor).toBeGreaterThanOrEqual(22);
    expect(nodeMajor % 2).toBe(0);
    expect(finalStage.image).toBe('${PISTON_IMAGE}');
  });

  it('builds on the pool-ready pre-isolate base unless the isolate one is asked for', () => {
    expect(globalArgs().get('PISTON_IMAGE')).toBe('piston:v3.1.1');
    const generation = finalStage.instructions
      .filter((i) => i.getKeyword() === 'ARG')
      .map((i) => i.getArgumentsContent() ?? '')
      .find((arg) => arg.startsWith('PISTON_GENERATION='));
    expect(generation).toBe('PISTON_GENERATION=pre-isolate');
  });

  it('installs runtimes with the built installer script, whose source is in scripts/image', () => {
    const runs = finalStage.instructions
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    const installer = runs
      .flatMap((run) => [...run.matchAll(/\/opt\/adapter\/(dist\/scripts\/image\/\w+)\.js/g)])
      .map((m) => m[1]);
    expect(installer).toEqual(['dist/scripts/image/installMain']);
    expect(fs.existsSync(path.join(repoRoot, 'scripts/image/installMain.ts'))).toBe(true);
    // The program is the script's: no inline JavaScript in the Dockerfile.
    expect(runs.join('\n')).not.toMatch(/node[^\n]* -e /);
  });

  it('copies from the build context only paths that exist in the repository', () => {
    const sources = contextCopies(stages).flatMap((step) => step.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(source).not.toMatch(/[*?[]/); // globs would need a matcher here
      expect(fs.existsSync(path.join(repoRoot, source))).toBe(true);
    }
  });

  it('names a stage defined earlier in every COPY --from', () => {
    stages.forEach((stage, index) => {
      const earlier = stages.slice(0, index).map((s) => s.name);
      for (const step of copySteps(stage).filter((s) => s.from !== null)) {
        // An image reference would carry a tag, digest or registry path.
        if (!earlier.includes(step.from)) expect(step.from).toMatch(/[:@/]/);
      }
    });
    expect(copySteps(finalStage).some((step) => step.from === 'build')).toBe(true);
  });

  it('runs only npm scripts that package.json defines, after copying the lockfile npm ci needs', () => {
    const scripts = (
      JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    const runs = buildStage.instructions
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    const named = runs.flatMap((run) =>
      [...run.matchAll(/npm run (?:--?\S+ )*([\w:.-]+)/g)].map((m) => m[1]),
    );
    expect(named).toContain('build');
    for (const name of named) expect(Object.keys(scripts)).toContain(name);
    expect(runs.some((run) => /npm (ci|prune) [^&;]*--omit=dev/.test(run))).toBe(true);
    const lockfileCopied = copySteps(buildStage).some((step) =>
      step.sources.includes('package-lock.json'),
    );
    expect(lockfileCopied).toBe(true);
  });

  it('enters through start.sh at the path it is copied to; the script exists, is executable and parses', () => {
    const entry = entrypoint();
    const scriptPath = entry.find((arg) => arg.endsWith('/start.sh'));
    expect(scriptPath).toBeDefined();
    const copied = copySteps(finalStage).find((step) => step.destination === scriptPath);
    expect(copied).toBeDefined();
    expect(copied?.from).toBeNull();
    expect(copied?.sources).toEqual(['scripts/start.sh']);

    expect(fs.statSync(startScript).mode & 0o111).not.toBe(0);
    const syntax = spawnSync('sh', ['-n', startScript], { encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
  });

  it('starts under tini, copied from the build stage that installs it, reaping as a subreaper too', () => {
    const [init, ...rest] = entrypoint();
    expect(rest.slice(0, 2)).toEqual(['-s', '--']);
    const copied = copySteps(finalStage).find((step) => step.destination === init);
    expect(copied?.from).toBe('build');
    // The static build: it runs on whatever libc the Piston base has.
    expect(copied?.sources).toEqual(['/usr/bin/tini-static']);
    const buildRuns = buildStage.instructions
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    expect(buildRuns.some((run) => /apt-get install [^&;]*\btini\b/.test(run))).toBe(true);
  });

  it('exposes port 2000 and sets the session defaults', () => {
    const exposed = finalStage.instructions
      .filter((i) => i.getKeyword() === 'EXPOSE')
      .flatMap((i) => i.getArguments().map((a) => a.getValue().replace(/\/tcp$/, '')));
    expect(exposed).toContain('2000');
    const env = envOf(finalStage);
    expect(env.get('PORT')).toBe('2000');
    expect(env.get('ENGINE_PORT')).toBe('2001');
    expect(env.get('PISTON_REQUIRED')).toBe('true');
    expect(env.get('MAX_TIMEOUT_SECONDS')).toBe('220');
    expect(Number(env.get('OUTPUT_MAX_BYTES'))).toBeGreaterThanOrEqual(1024 * 1024);
    expect(Number(env.get('MAX_CONCURRENT_JOBS'))).toBeGreaterThan(0);
    // Memory flags for the adapter's Node only (start.sh passes them), never NODE_OPTIONS,
    // which Piston's own Node would inherit.
    expect(env.get('ADAPTER_NODE_OPTIONS')).toContain('--max-semi-space-size=1');
    expect(env.has('NODE_OPTIONS')).toBe(false);
  });

  it("health-checks /health with the adapter's own Node, copied into the image", () => {
    const checks = finalStage.instructions.filter((i) => i.getKeyword() === 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const command = jsonArgs(checks[0] as Instruction, 'CMD');
    expect(command).toHaveLength(2);
    expect(command[1]).toBe('/opt/adapter/dist/scripts/image/healthcheck.js');
    const source = fs.readFileSync(path.join(repoRoot, 'scripts/image/healthcheck.ts'), 'utf8');
    expect(source).toContain('/health');
    const nodePath = envOf(finalStage).get('ADAPTER_NODE');
    expect(command[0]).toBe(nodePath);
    expect(copySteps(finalStage).some((step) => step.destination === nodePath)).toBe(true);
  });

  it('labels the image with OCI annotations', () => {
    const labels = finalStage.instructions
      .filter((i) => i.getKeyword() === 'LABEL')
      .map((i) => i.getArgumentsContent() ?? '')
      .join(' ');
    for (const key of ['title', 'description', 'version', 'licenses', 'base.name']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
  });
});

describe('.dockerignore', () => {
  const isExcluded = dockerignoreMatcher(
    fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8'),
  );

  it('keeps out what the image must not carry', () => {
    for (const excluded of ['node_modules/x/index.js', 'dist/adapter/main.js', '.git/HEAD']) {
      expect(isExcluded(excluded)).toBe(true);
    }
    expect(isExcluded('test/docker/dockerfile.test.ts')).toBe(true);
  });

  it('excludes nothing that a COPY from the build context needs', () => {
    const needed = contextCopies(parseStages()).flatMap((step) => step.sources.flatMap(filesUnder));
    expect(needed).toContain('scripts/start.sh');
    expect(needed.filter(isExcluded)).toEqual([]);
  });
});

describe('scripts/start.sh', () => {
  let scratch: string;
  let stub: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'psa-start-'));
    // Stands in for ADAPTER_NODE: reports what it was run with instead of starting the adapter.
    stub = path.join(scratch, 'adapter-node-stub');
    fs.writeFileSync(
      stub,
      `#!${process.execPath}\n` +
        'const pick = (name) => process.env[name] ?? null;\n' +
        'process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: {\n' +
        '  ENGINE_COMMAND: pick("ENGINE_COMMAND"), ENGINE_URL: pick("ENGINE_URL"),\n' +
        '  ENGINE_PORT: pick("ENGINE_PORT") } }));\n',
      { mode: 0o755 },
    );
  });

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  /** A fresh directory laid out like /piston_api of one Piston generation. */
  function fakePiston(generation: 'isolate' | 'pre-isolate' | 'unknown'): string {
    const root = fs.mkdtempSync(path.join(scratch, `piston-${generation}-`));
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src/index.js'), '');
    if (generation === 'isolate') {
      fs.writeFileSync(path.join(root, 'src/docker-entrypoint.sh'), '#!/bin/bash\n', {
        mode: 0o755,
      });
    }
    if (generation === 'pre-isolate') {
      fs.mkdirSync(path.join(root, 'src/nosocket'));
      fs.writeFileSync(path.join(root, 'src/nosocket/nosocket.c'), '');
    }
    return root;
  }

  function fakePistonNode(): string {
    const node = path.join(fs.mkdtempSync(path.join(scratch, 'piston-node-')), 'node');
    fs.writeFileSync(node, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return node;
  }

  interface Outcome {
    status: number | null;
    stderr: string;
    argv?: string[];
    env?: Record<string, string | null>;
  }

  function runStart(env: Record<string, string>): Outcome {
    const result = spawnSync('sh', [startScript], {
      cwd: scratch, // start.sh must find the app from its own location, not the cwd
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ADAPTER_NODE: stub,
        PISTON_ROOT: path.join(scratch, 'no-piston-here'),
        ...env,
      },
    });
    const reported = result.stdout
      ? (JSON.parse(result.stdout) as Pick<Outcome, 'argv' | 'env'>)
      : {};
    return { status: result.status, stderr: result.stderr, ...reported };
  }

  const adapterMain = path.join(repoRoot, 'dist/adapter/main.js');

  it('passes ENGINE_COMMAND through as is, even with Piston present', () => {
    const outcome = runStart({
      ENGINE_COMMAND: 'my-engine --port 2001',
      PISTON_ROOT: fakePiston('isolate'),
    });
    expect(outcome.status).toBe(0);
    expect(outcome.argv).toEqual([adapterMain]);
    expect(outcome.env?.ENGINE_COMMAND).toBe('my-engine --port 2001');
    expect(outcome.stderr).toMatch(/^start\.sh: engine: ENGINE_COMMAND as given: my-engine/m);
  });

  it("passes ADAPTER_NODE_OPTIONS to the adapter's Node only, one option per word", () => {
    const outcome = runStart({
      ENGINE_COMMAND: 'my-engine',
      ADAPTER_NODE_OPTIONS: ' --max-semi-space-size=1  --max-old-space-size=* ',
    });
    expect(outcome.status).toBe(0);
    expect(outcome.argv).toEqual([
      '--max-semi-space-size=1',
      '--max-old-space-size=*',
      adapterMain,
    ]);
    expect(outcome.stderr).toContain(
      `adapter: ${stub} --max-semi-space-size=1 --max-old-space-size=* `,
    );
  });

  it('attaches to ENGINE_URL without launching anything', () => {
    const outcome = runStart({
      ENGINE_URL: 'http://127.0.0.1:2999',
      PISTON_ROOT: fakePiston('pre-isolate'),
      PISTON_REQUIRED: 'true',
    });
    expect(outcome.status).toBe(0);
    expect(outcome.env?.ENGINE_COMMAND).toBeNull();
    expect(outcome.env?.ENGINE_URL).toBe('http://127.0.0.1:2999');
    expect(outcome.stderr).toContain('engine: attach to ENGINE_URL=http://127.0.0.1:2999');
  });

  it('launches current (isolate) Piston through its entrypoint', () => {
    const root = fakePiston('isolate');
    const outcome = runStart({ PISTON_ROOT: root, PISTON_REQUIRED: 'true' });
    expect(outcome.status).toBe(0);
    expect(outcome.argv).toEqual([adapterMain]);
    expect(outcome.env?.ENGINE_COMMAND).toBe(`${root}/src/docker-entrypoint.sh`);
    expect(outcome.stderr).toContain(
      `engine: piston (isolate, current master) via ${root}/src/docker-entrypoint.sh`,
    );
  });

  it("launches pre-isolate Piston with Piston's own Node", () => {
    const root = fakePiston('pre-isolate');
    const pistonNode = fakePistonNode();
    const outcome = runStart({ PISTON_ROOT: root, PISTON_NODE: pistonNode });
    expect(outcome.status).toBe(0);
    expect(outcome.env?.ENGINE_COMMAND).toBe(`${pistonNode} ${root}/src`);
    expect(outcome.stderr).toContain(
      `engine: piston (pre-isolate v3) via ${pistonNode} ${root}/src`,
    );
  });

  it('escapes spaces in the paths it puts into ENGINE_COMMAND (the adapter splits on spaces)', () => {
    const root = path.join(fs.mkdtempSync(path.join(scratch, 'spaced-')), 'piston api');
    fs.mkdirSync(path.join(root, 'src/nosocket'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src/index.js'), '');
    const pistonNode = fakePistonNode();
    const outcome = runStart({ PISTON_ROOT: root, PISTON_NODE: pistonNode });
    expect(outcome.status).toBe(0);
    expect(outcome.env?.ENGINE_COMMAND).toBe(`${pistonNode} ${root.replace(/ /g, '\\ ')}/src`);
  });

  it("fails when pre-isolate Piston's Node is missing", () => {
    const outcome = runStart({
      PISTON_ROOT: fakePiston('pre-isolate'),
      PISTON_NODE: path.join(scratch, 'missing-node'),
    });
    expect(outcome.status).toBe(1);
    expect(outcome.argv).toBeUndefined();
    expect(outcome.stderr).toMatch(/start\.sh: error: Piston's own Node .*missing-node/);
  });

  it('fails on a Piston tree of neither generation', () => {
    const outcome = runStart({ PISTON_ROOT: fakePiston('unknown') });
    expect(outcome.status).toBe(1);
    expect(outcome.stderr).toContain('neither known generation');
  });

  it.each(['true', 'TRUE', '1', 'yes'])(
    'exits 1 with a message when PISTON_REQUIRED=%s and there is no Piston',
    (required) => {
      const outcome = runStart({ PISTON_REQUIRED: required });
      expect(outcome.status).toBe(1);
      expect(outcome.argv).toBeUndefined();
      expect(outcome.stderr).toContain(
        `start.sh: error: PISTON_REQUIRED=${required} but no Piston`,
      );
    },
  );

  it.each<Record<string, string>>([{}, { PISTON_REQUIRED: 'false' }])(
    'falls back to the local development engine with a warning (%j)',
    (env) => {
      const outcome = runStart(env);
      expect(outcome.status).toBe(0);
      expect(outcome.argv).toEqual([adapterMain]);
      expect(outcome.env?.ENGINE_COMMAND).toBe(
        `${stub} ${path.join(repoRoot, 'dist/scripts/local-engine/main.js')}`,
      );
      expect(outcome.stderr).toMatch(/^start\.sh: warning: engine: .*local development engine/m);
      expect(outcome.stderr).toContain('NOT a sandbox');
    },
  );

  const shellcheck = spawnSync('shellcheck', ['--version']);
  if (shellcheck.error === undefined && shellcheck.status === 0) {
    it('passes shellcheck', () => {
      const result = spawnSync('shellcheck', ['--shell=sh', startScript], { encoding: 'utf8' });
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
    });
  } else {
    it.skip('passes shellcheck (skipped: shellcheck is not installed here; CI installs it)', () => {});
  }
});
