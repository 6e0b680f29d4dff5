/**
 * Which Piston generation a base image holds, told by its files (scripts/start.sh tells them
 * apart the same way), and what to say when it is not the one the build asked for.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

export type Generation = 'pre-isolate' | 'isolate';

/** The commit of Piston v3.1.1, the last release before isolate. */
export const PRE_ISOLATE_COMMIT = '59338eee333606af6b7e5aa459ce63b6a3da2757';

/** The command that builds the pre-isolate base from Piston's own repository. */
export const PRE_ISOLATE_BUILD_COMMAND =
  `docker build -t piston:v3.1.1 --label org.opencontainers.image.revision=${PRE_ISOLATE_COMMIT} ` +
  `"https://github.com/engineer-man/piston.git#${PRE_ISOLATE_COMMIT}:api"`;

export function detectGeneration(pistonRoot: string): Generation | 'none' | 'unknown' {
  if (!existsSync(path.join(pistonRoot, 'src/index.js'))) return 'none';
  if (existsSync(path.join(pistonRoot, 'src/docker-entrypoint.sh'))) return 'isolate';
  if (existsSync(path.join(pistonRoot, 'src/nosocket'))) return 'pre-isolate';
  return 'unknown';
}

/** Null when the base is what was asked for; else the reason the build stops, and the fix. */
export function baseProblem(
  found: Generation | 'none' | 'unknown',
  wanted: Generation,
  image: string,
  pistonRoot: string,
): string | null {
  if (found === wanted) return null;
  const fix =
    wanted === 'pre-isolate'
      ? `Build the pre-isolate base (see docker/README.md, "Pre-isolate base") with:\n  ${PRE_ISOLATE_BUILD_COMMAND}\n` +
        'then pass --build-arg PISTON_IMAGE=piston:v3.1.1'
      : 'Pass --build-arg PISTON_IMAGE=ghcr.io/engineer-man/piston (current Piston)';
  switch (found) {
    case 'none':
      return `PISTON_IMAGE=${image} holds no Piston (no ${pistonRoot}/src/index.js). ${fix}.`;
    case 'unknown':
      return `PISTON_IMAGE=${image} holds a Piston of neither known generation at ${pistonRoot}. ${fix}.`;
    case 'isolate':
      return (
        `PISTON_IMAGE=${image} is current Piston, whose jobs run in isolate and need a privileged ` +
        `container that session pools do not offer. ${fix}; or, for a privileged host, build on ` +
        'it on purpose with --build-arg PISTON_GENERATION=isolate.'
      );
    case 'pre-isolate':
      return `PISTON_IMAGE=${image} is pre-isolate Piston but PISTON_GENERATION=isolate was asked for. ${fix}, or drop PISTON_GENERATION.`;
  }
}
