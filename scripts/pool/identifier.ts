import { PoolError, poolErrors } from './poolErrors';

/**
 * Azure's rule for session identifiers (sessions-usage.md, "Identifiers"): 4 to 128 characters,
 * letters and digits plus | - & ^ % $ # ( ) { } [ ] ; < and >. Not `_`, `.` or spaces.
 */
const ALLOWED = /^[A-Za-z0-9|\-&^%$#(){}[\];<>]{4,128}$/;
const ALLOWED_SET = 'letters, digits and | - & ^ % $ # ( ) { } [ ] ; < >';

/** The request's `identifier` query parameter, validated; throws a 400 PoolError otherwise. */
export function identifierOf(url: string): string {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const values = new URLSearchParams(query).getAll('identifier');
  if (values.length === 0) throw poolErrors.missingIdentifier();
  const [identifier] = values;
  if (values.some((value) => value !== identifier)) {
    throw invalid(`'identifier' is given ${values.length} times with different values`);
  }
  return validIdentifier(identifier as string);
}

export function validIdentifier(identifier: string): string {
  if (identifier.length === 0) throw poolErrors.missingIdentifier();
  if (identifier.length < 4 || identifier.length > 128) {
    throw invalid(
      `identifier ${JSON.stringify(shorten(identifier))} has ${identifier.length} characters; it must have 4 to 128`,
    );
  }
  if (!ALLOWED.test(identifier)) {
    const bad = [...new Set([...identifier].filter((c) => !ALLOWED.test(c.repeat(4))))];
    throw invalid(
      `identifier ${JSON.stringify(shorten(identifier))} contains ${bad
        .map((c) => JSON.stringify(c))
        .join(', ')}; only ${ALLOWED_SET} are allowed`,
    );
  }
  return identifier;
}

function invalid(message: string): PoolError {
  return new PoolError(400, 'SessionRequestValidationFailed', message);
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
