/**
 * Piston's package index: one package per line, `language,version,sha256,download-url`
 * (api/src/package.js, get_package_list). Piston picks, for a language and a semver range,
 * the newest version that satisfies it (get_package); this does the same, so that the
 * installer can name the exact version and tarball before asking Piston for it.
 */
import semver from 'semver';

export interface IndexEntry {
  language: string;
  version: string;
  checksum: string;
  download: string;
}

/** One requested package: a Piston package name and a semver range. */
export interface PackageSpec {
  language: string;
  range: string;
  /** As written in PISTON_PACKAGES, for messages. */
  text: string;
}

export function parseIndex(text: string): IndexEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [language = '', version = '', checksum = '', download = ''] = line.split(',', 4);
      return { language, version, checksum, download };
    });
}

/** `NAME=RANGE` (or `NAME` alone for the newest), space-separated. */
export function parseSpecs(text: string): PackageSpec[] {
  return text
    .split(/\s+/)
    .filter((word) => word !== '')
    .map((word) => {
      const at = word.indexOf('=');
      const language = at < 0 ? word : word.slice(0, at);
      const range = at < 0 ? '*' : word.slice(at + 1) || '*';
      if (!/^[a-z0-9][a-z0-9._+-]*$/i.test(language)) {
        throw new Error(`PISTON_PACKAGES: "${word}" does not start with a package name`);
      }
      if (semver.validRange(range) === null) {
        throw new Error(`PISTON_PACKAGES: "${word}": "${range}" is not a semver range`);
      }
      return { language, range, text: word };
    });
}

export type Resolution =
  | { kind: 'found'; entry: IndexEntry }
  | { kind: 'unknown_package' }
  | { kind: 'no_version'; versions: string[] };

export function resolveSpec(index: IndexEntry[], spec: PackageSpec): Resolution {
  const named = index.filter((entry) => entry.language === spec.language);
  if (named.length === 0) return { kind: 'unknown_package' };
  const matching = named
    .filter((entry) => semver.valid(entry.version) && semver.satisfies(entry.version, spec.range))
    .sort((a, b) => semver.rcompare(a.version, b.version));
  const newest = matching[0];
  if (newest === undefined) {
    return { kind: 'no_version', versions: named.map((entry) => entry.version).sort(semverOrder) };
  }
  return { kind: 'found', entry: newest };
}

function semverOrder(a: string, b: string): number {
  return semver.valid(a) && semver.valid(b) ? semver.compare(a, b) : a.localeCompare(b);
}
