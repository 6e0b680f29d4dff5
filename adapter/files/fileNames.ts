import { z } from 'zod';
import { errors } from '../errors/errorTable';

/** Where Azure's interpreter keeps uploads; Semantic Kernel and LlamaIndex name files by it. */
export const MOUNT_PREFIX = '/mnt/data/';

/** Most filesystems cap one name at 255 bytes. */
export const MAX_NAME_BYTES = 255;

// C0 controls, DEL and C1 controls: invisible in listings and unsafe in shells and logs.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The rules a session file name must pass, in the order a caller should hear about them.
 * Files live flat in one folder per session, so a name is one path segment that cannot leave
 * it; each rule stops the check so the reason given is the first one broken.
 */
const fileNameSchema = z
  .string()
  .transform((name) => (name.startsWith(MOUNT_PREFIX) ? name.slice(MOUNT_PREFIX.length) : name))
  .refine((name) => name.length > 0, { message: 'the name is empty', abort: true })
  .refine((name) => !CONTROL_CHARACTER.test(name), {
    message: 'the name contains a control character',
    abort: true,
  })
  .refine((name) => !name.split(/[/\\]/).some((segment) => segment === '..' || segment === '.'), {
    message: 'the name would leave the session folder ("." or ".." segment)',
    abort: true,
  })
  .refine((name) => !name.includes('\\'), {
    message: 'the name contains a backslash',
    abort: true,
  })
  .refine((name) => !name.startsWith('/'), {
    message: `absolute paths are refused; name the file alone or under ${MOUNT_PREFIX}`,
    abort: true,
  })
  .refine((name) => !name.includes('/'), {
    message: 'the name contains "/": folders are not supported, files sit directly in /mnt/data',
    abort: true,
  })
  .refine((name) => !name.startsWith('.'), {
    message: 'hidden names (starting with ".") are refused',
    abort: true,
  })
  .refine((name) => Buffer.byteLength(name) <= MAX_NAME_BYTES, {
    message: `the name is longer than ${MAX_NAME_BYTES} bytes`,
    abort: true,
  });

/**
 * The stored name for what a client sent (a multipart filename or a path parameter), with a
 * leading /mnt/data/ removed; anything that could escape or hide in the folder is a 400.
 */
export function parseFileName(raw: string | undefined): string {
  const parsed = fileNameSchema.safeParse(raw ?? '');
  if (parsed.success) return parsed.data;
  const reason = parsed.error.issues[0]?.message ?? 'the name is not valid';
  const shown = raw === undefined ? '(none given)' : JSON.stringify(raw);
  throw errors.invalid_file_name({ shown, name: raw ?? null, reason });
}
