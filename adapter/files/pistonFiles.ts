import { isUtf8 } from 'node:buffer';
import type { PistonFile } from '../piston/types';

/**
 * A stored file as the engine takes it. Text goes as utf8 so it stays readable in requests
 * and logs; anything else as base64, which the engine writes back decoded, byte for byte.
 */
export function toPistonFile(name: string, bytes: Buffer): PistonFile {
  if (isUtf8(bytes)) return { name, content: bytes.toString('utf8'), encoding: 'utf8' };
  return { name, content: bytes.toString('base64'), encoding: 'base64' };
}
