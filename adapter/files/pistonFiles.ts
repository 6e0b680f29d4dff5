import type { PistonFile } from '../piston/types';

/**
 * A stored file as the engine takes it: always base64. Piston's compile stage compiles every
 * utf8 file beside C and C++ code (contract section 5: `c_extra_text_file_utf8`), and writes
 * base64 files back decoded, byte for byte, without compiling them (`c_extra_text_file_base64`):
 * an upload must never change how a program builds.
 */
export function toPistonFile(name: string, bytes: Buffer): PistonFile {
  return { name, content: bytes.toString('base64'), encoding: 'base64' };
}

/** The bytes a file of `size` adds to an engine request body, JSON and base64 included. */
export function encodedFileBytes(name: string, size: number): number {
  const envelope = Buffer.byteLength(JSON.stringify({ name, content: '', encoding: 'base64' }));
  return envelope + 4 * Math.ceil(size / 3) + 1; // + the comma between array items
}
