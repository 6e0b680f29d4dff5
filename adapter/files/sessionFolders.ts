import { createHash } from 'node:crypto';

/** The folder for requests that name no session. */
export const DEFAULT_FOLDER = 'default';

/** Longest folder name kept readable; longer ones are hashed to stay under the 255-byte cap. */
const MAX_READABLE_LENGTH = 200;

const KEPT_BYTE = /^[A-Za-z0-9-]$/;

/**
 * The folder name for a session identifier. Distinct identifiers always get distinct folders
 * (sessions must never see each other's files), so the mapping is injective: letters, digits
 * and "-" stay, every other byte becomes "_" and two hex digits, and the prefixes keep
 * encoded, hashed and default folders apart. No result starts with "." or contains "/".
 */
export function sessionFolderName(identifier: string | undefined): string {
  if (identifier === undefined || identifier === '') return DEFAULT_FOLDER;
  let encoded = '';
  for (const byte of Buffer.from(identifier, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += KEPT_BYTE.test(char) ? char : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (encoded.length <= MAX_READABLE_LENGTH) return `id-${encoded}`;
  return `hash-${createHash('sha256').update(identifier, 'utf8').digest('hex')}`;
}
