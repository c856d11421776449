/**
 * Whether a version satisfies a package.json `engines` range, as npm reads one: comparators
 * (>=, >, <=, <, =, ^, ~, x-ranges such as 20.x or *) joined by spaces (all must hold), hyphen
 * ranges (20 - 22), alternatives joined by `||`. Pre-release tags are not compared.
 */
type Version = readonly [number, number, number];

export class VersionRangeError extends Error {}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export function parseVersion(text: string): Version {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (match === null) throw new VersionRangeError(`'${text}' is not a version`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** A partial version: the numbers given (1 to 3); a wildcard ends it. */
function parsePartial(text: string): number[] {
  const parts = text.replace(/^v/, '').split('.');
  if (parts.length > 3) throw new VersionRangeError(`'${text}' is not a version`);
  const numbers: number[] = [];
  for (const part of parts) {
    if (/^[xX*]$/.test(part)) break;
    if (!/^\d+$/.test(part)) throw new VersionRangeError(`'${text}' is not a version`);
    numbers.push(Number(part));
  }
  return numbers;
}

/** The lowest version a partial stands for, and the first one above all it stands for (null: none). */
function bounds(partial: number[]): { low: Version; above: Version | null } {
  const [major = 0, minor = 0, patch = 0] = partial;
  const low: Version = [major, minor, patch];
  if (partial.length === 0) return { low, above: null };
  if (partial.length === 1) return { low, above: [major + 1, 0, 0] };
  if (partial.length === 2) return { low, above: [major, minor + 1, 0] };
  return { low, above: [major, minor, patch + 1] };
}

function holds(v: Version, comparator: string): boolean {
  const match = /^(>=|<=|>|<|=|\^|~)?\s*(\S+)$/.exec(comparator);
  if (match === null) throw new VersionRangeError(`'${comparator}' is not a version range`);
  const operator = match[1] ?? '=';
  const partial = parsePartial(match[2]!);
  const { low, above } = bounds(partial);
  switch (operator) {
    case '=':
      return compare(v, low) >= 0 && (above === null || compare(v, above) < 0);
    case '>=':
      return compare(v, low) >= 0;
    case '>':
      return above !== null && compare(v, above) >= 0;
    case '<':
      return compare(v, low) < 0;
    case '<=':
      return above === null || compare(v, above) < 0;
    case '~': {
      const upper: Version = partial.length <= 1 ? [low[0] + 1, 0, 0] : [low[0], low[1] + 1, 0];
      return compare(v, low) >= 0 && compare(v, upper) < 0;
    }
    default: {
      // ^: the leftmost non-zero number given may not change
      const upper: Version =
        low[0] > 0 || partial.length <= 1 ? [low[0] + 1, 0, 0]
        : low[1] > 0 || partial.length === 2 ? [0, low[1] + 1, 0]
        : [0, 0, low[2] + 1];
      return compare(v, low) >= 0 && compare(v, upper) < 0;
    }
  }
}

function setHolds(v: Version, set: string): boolean {
  const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(set);
  if (hyphen !== null) return holds(v, `>=${hyphen[1]}`) && holds(v, `<=${hyphen[2]}`);
  // '>= 20' is one comparator: join operators to their version first
  const comparators = set.replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
  return comparators.every((comparator) => holds(v, comparator));
}

/** True when `version` (e.g. process.versions.node) is in `range`; throws VersionRangeError on a range it cannot read. */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  return range.split('||').some((set) => set.trim() === '' || setHolds(v, set.trim()));
}
