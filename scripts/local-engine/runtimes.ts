/** The runtimes the engine offers, and how a request picks one, as Piston's runtime.js does. */
import semver from 'semver';

export interface Runtime {
  language: string;
  /** The real version of the interpreter or compiler on this machine, as x.y.z. */
  version: string;
  aliases: string[];
  /** The package name, only where one package serves several languages (gcc, node). */
  runtime?: string;
  /** Absolute paths of the stage scripts; compileScript is null for interpreted languages. */
  compileScript: string | null;
  runScript: string;
}

/** One entry of GET /api/v2/runtimes: `runtime` is absent, not null, when not set. */
export interface ApiRuntime {
  language: string;
  version: string;
  aliases: string[];
  runtime?: string;
}

export function toApiRuntime({ language, version, aliases, runtime }: Runtime): ApiRuntime {
  return runtime === undefined
    ? { language, version, aliases }
    : { language, version, aliases, runtime };
}

/**
 * The highest version whose language or alias is `language` and whose version satisfies the
 * semver range `versionRange` (`get_latest_runtime_matching_language_version`). Names compare
 * exactly: a package name ("node") is neither language nor alias. Matching is node-semver's,
 * the library Piston calls (`semver.satisfies`, `semver.rcompare`), so every range Piston
 * accepts (hyphen ranges, `||`, build metadata) resolves the same here, and a selector that is
 * no range at all ("latest") matches nothing.
 */
export function findRuntime(
  runtimes: readonly Runtime[],
  language: string,
  versionRange: string,
): Runtime | undefined {
  const matching = runtimes.filter(
    (rt) =>
      (rt.language === language || rt.aliases.includes(language)) &&
      semver.satisfies(rt.version, versionRange),
  );
  return matching.sort((a, b) => semver.rcompare(a.version, b.version))[0];
}
