/**
 * The part of node-semver that Piston's runtime lookup uses (`semver.satisfies(version, range)`),
 * for the range forms Piston users send: exact versions (`3.11.7`, `=3.11.7`, `v3.11.7`),
 * x-ranges and partials (`*`, `x`, `3`, `3.x`, `3.11`, `3.11.x`), `^` and `~` ranges, the
 * comparators `>`, `>=`, `<`, `<=`, and sets of them (`>=3.8 <4`, `2.x || 3.x`). Hyphen ranges
 * and prerelease tags are not supported: such a range matches nothing, as an invalid range
 * does in node-semver (`python-latest runtime is unknown`).
 */
export type Version = readonly [major: number, minor: number, patch: number];

type Operator = '<' | '<=' | '>' | '>=' | '=';

interface Comparator {
  operator: Operator;
  version: Version;
}

/** A comparator no version satisfies, for ranges such as `>*`. */
const NOTHING: Comparator = { operator: '<', version: [0, 0, 0] };

export function parseVersion(text: string): Version | null {
  const match = /^\s*[=v]?(\d+)\.(\d+)\.(\d+)\s*$/.exec(text);
  if (!match) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function satisfies(versionText: string, range: string): boolean {
  const version = parseVersion(versionText);
  if (version === null) return false;
  const sets = parseRange(range);
  if (sets === null) return false;
  return sets.some((set) => set.every((comparator) => holds(version, comparator)));
}

/** Each `||` alternative as the comparators that must all hold; null for an invalid range. */
function parseRange(range: string): Comparator[][] | null {
  const sets: Comparator[][] = [];
  for (const alternative of range.split('||')) {
    // node-semver allows a space between an operator and its version ("> 3.8").
    const tokens = alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~>?)\s+/g, '$1')
      .split(/\s+/)
      .filter((token) => token !== '');
    const set: Comparator[] = [];
    for (const token of tokens) {
      const comparators = parseComparator(token);
      if (comparators === null) return null;
      set.push(...comparators);
    }
    sets.push(set);
  }
  return sets;
}

function parseComparator(token: string): Comparator[] | null {
  const match = /^(>=|<=|>|<|=|\^|~>?|)v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$/.exec(
    token,
  );
  if (!match) return null;
  const [, operator = '', ...parts] = match;
  // A wildcard (or a missing part) makes every later part a wildcard too: 3.x.1 is 3.x.
  const numbers: (number | null)[] = [];
  for (const part of parts) {
    const previousIsWild = numbers.length > 0 && numbers[numbers.length - 1] === null;
    numbers.push(
      part === undefined || /^[xX*]$/.test(part) || previousIsWild ? null : Number(part),
    );
  }
  const [major = null, minor = null, patch = null] = numbers;
  return desugar(operator, major, minor, patch);
}

const atLeast = (version: Version): Comparator => ({ operator: '>=', version });
const below = (version: Version): Comparator => ({ operator: '<', version });

/** node-semver's rewriting of partial versions, tildes and carets into plain comparators. */
function desugar(
  operator: string,
  major: number | null,
  minor: number | null,
  patch: number | null,
): Comparator[] {
  if (major === null) return operator === '>' || operator === '<' ? [NOTHING] : [];
  switch (operator) {
    case '':
    case '=':
      if (minor === null) return [atLeast([major, 0, 0]), below([major + 1, 0, 0])];
      if (patch === null) return [atLeast([major, minor, 0]), below([major, minor + 1, 0])];
      return [{ operator: '=', version: [major, minor, patch] }];
    case '~':
    case '~>':
      if (minor === null) return [atLeast([major, 0, 0]), below([major + 1, 0, 0])];
      return [atLeast([major, minor, patch ?? 0]), below([major, minor + 1, 0])];
    case '^':
      if (minor === null) return [atLeast([major, 0, 0]), below([major + 1, 0, 0])];
      if (major > 0) return [atLeast([major, minor, patch ?? 0]), below([major + 1, 0, 0])];
      if (patch === null || minor > 0) {
        return [atLeast([0, minor, patch ?? 0]), below([0, minor + 1, 0])];
      }
      return [atLeast([0, 0, patch]), below([0, 0, patch + 1])];
    case '>':
      if (minor === null) return [atLeast([major + 1, 0, 0])];
      if (patch === null) return [atLeast([major, minor + 1, 0])];
      return [{ operator: '>', version: [major, minor, patch] }];
    case '>=':
      return [atLeast([major, minor ?? 0, patch ?? 0])];
    case '<':
      return [below([major, minor ?? 0, patch ?? 0])];
    case '<=':
      if (minor === null) return [below([major + 1, 0, 0])];
      if (patch === null) return [below([major, minor + 1, 0])];
      return [{ operator: '<=', version: [major, minor, patch] }];
    default:
      return [NOTHING];
  }
}

function holds(version: Version, { operator, version: bound }: Comparator): boolean {
  const order = compareVersions(version, bound);
  switch (operator) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
  }
}
