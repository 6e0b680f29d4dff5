/**
 * Azure's rule for session identifiers (sessions-usage.md, "Identifiers"): 4 to 128 characters,
 * letters and digits plus | - & ^ % $ # ( ) { } [ ] ; < and >. Not `_`, `.` or spaces.
 * One rule for the adapter and the local pool (scripts/pool/), so what one accepts the other
 * does: an identifier a pool would refuse never reaches a session, and never names one here.
 */
const ALLOWED = /^[A-Za-z0-9|\-&^%$#(){}[\];<>]{4,128}$/;
export const IDENTIFIER_MIN_LENGTH = 4;
export const IDENTIFIER_MAX_LENGTH = 128;
export const IDENTIFIER_RULE = `4 to 128 characters: letters, digits and | - & ^ % $ # ( ) { } [ ] ; < >`;

export type IdentifierCheck =
  | { kind: 'absent' }
  | { kind: 'valid'; identifier: string }
  | { kind: 'invalid'; reason: string; empty: boolean };

/**
 * Checks every value given for `identifier` (a query string may carry it more than once).
 * None is "absent"; more than one is refused even when they agree, since a pool and the
 * session behind it could pick different ones.
 */
export function checkIdentifierValues(values: readonly string[]): IdentifierCheck {
  if (values.length === 0) return { kind: 'absent' };
  if (values.length > 1) {
    return {
      kind: 'invalid',
      reason: `'identifier' is given ${values.length} times; give it once`,
      empty: false,
    };
  }
  return checkIdentifier(values[0] as string);
}

export function checkIdentifier(identifier: string): IdentifierCheck {
  if (identifier.length === 0) {
    return { kind: 'invalid', reason: "'identifier' is empty", empty: true };
  }
  const length = [...identifier].length;
  if (length < IDENTIFIER_MIN_LENGTH || length > IDENTIFIER_MAX_LENGTH) {
    return {
      kind: 'invalid',
      reason: `identifier ${JSON.stringify(shorten(identifier))} has ${length} characters; it must have ${IDENTIFIER_MIN_LENGTH} to ${IDENTIFIER_MAX_LENGTH}`,
      empty: false,
    };
  }
  if (!ALLOWED.test(identifier)) {
    const bad = [...new Set([...identifier].filter((c) => !ALLOWED.test(c.repeat(4))))];
    return {
      kind: 'invalid',
      reason: `identifier ${JSON.stringify(shorten(identifier))} contains ${bad
        .map((c) => JSON.stringify(c))
        .join(', ')}; only letters, digits and | - & ^ % $ # ( ) { } [ ] ; < > are allowed`,
      empty: false,
    };
  }
  return { kind: 'valid', identifier };
}

/** The values of `identifier` in a request target ("/path?a=1&identifier=x"), as sent. */
export function identifierValuesOf(url: string): string[] {
  const start = url.indexOf('?');
  if (start === -1) return [];
  return new URLSearchParams(url.slice(start + 1)).getAll('identifier');
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
