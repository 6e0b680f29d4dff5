import {
  checkIdentifierValues,
  identifierValuesOf,
  type IdentifierCheck,
} from '../../adapter/sessions/identifier';
import { PoolError, poolErrors } from './poolErrors';

/**
 * The pool applies the adapter's own identifier rule (adapter/sessions/identifier.ts), so the
 * emulator refuses exactly what the adapter behind it would.
 */

/** The request's `identifier` query parameter, validated; throws a 400 PoolError otherwise. */
export function identifierOf(url: string): string {
  return accepted(checkIdentifierValues(identifierValuesOf(url)));
}

function accepted(check: IdentifierCheck): string {
  if (check.kind === 'valid') return check.identifier;
  if (check.kind === 'absent' || check.empty) throw poolErrors.missingIdentifier();
  throw new PoolError(400, 'SessionRequestValidationFailed', check.reason);
}
