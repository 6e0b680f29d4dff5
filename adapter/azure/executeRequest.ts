import { z } from 'zod';
import type { PistonFile } from '../piston/types';

/** What a caller asked to run, whichever Azure dialect it used. */
export interface ExecutionInput {
  code: string;
  stdin?: string;
  args?: string[];
  files: PistonFile[];
  version?: string;
  /** As requested; clamping to the configured range happens when the engine call is built. */
  timeoutSeconds?: number;
}

export class RequestValidationError extends Error {
  constructor(
    message: string,
    readonly field: string | null,
  ) {
    super(message);
    this.name = 'RequestValidationError';
  }
}

const caseInsensitiveEnum = <T extends string>(values: readonly T[]) =>
  z.string().transform((value, ctx) => {
    const match = values.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      ctx.addIssue({
        code: 'custom',
        // The field's path comes first in the message (see parseExecuteBody): not named twice.
        message: `must be one of ${values.join(', ')} (any case), got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return match;
  });

/** A string Piston can hand a process: Node refuses arguments with NUL bytes (an empty 500). */
const noNul = z
  .string({ error: 'must be a string' })
  .refine((value) => !value.includes('\0'), { message: 'must not contain a NUL byte' });

const fileSchema = z.object(
  {
    name: z
      .string({ error: 'must be a string' })
      .min(1, 'must not be empty')
      .max(255, 'must be at most 255 characters')
      .refine((name) => !/(^|[\\/])\.\.([\\/]|$)/.test(name) && !/^[\\/]/.test(name), {
        message: 'must stay inside the job directory (no absolute paths or "..")',
      })
      // Names Piston cannot write answer an empty 500 (contract section 5): say why instead.
      .refine((name) => !name.includes('\0'), { message: 'must not contain a NUL byte' })
      .refine((name) => name !== '.' && !/[\\/]$/.test(name) && !/[\\/]{2}/.test(name), {
        message: 'must name a file: not ".", no trailing "/" and no empty path segments',
      }),
    content: z.string({ error: 'must be a string' }),
    encoding: caseInsensitiveEnum(['utf8', 'base64', 'hex'] as const).optional(),
  },
  { error: 'must be an object {name, content, encoding?}' },
);

const NUMBER_OF_SECONDS = 'must be a number of seconds';
// The message on both branches: a union reports its branch's own issue for a string.
const timeoutSchema = z.union(
  [
    z.number({ error: NUMBER_OF_SECONDS }),
    z.string().regex(/^\s*-?\d+(\.\d+)?\s*$/, { error: NUMBER_OF_SECONDS }),
  ],
  { error: NUMBER_OF_SECONDS },
);

/**
 * The execution fields, read from `properties` (generation A) or the top level (generation B
 * and bare bodies). Unknown fields are ignored: clients send identifiers and hints we do not use.
 */
const executionFieldsSchema = z.object({
  code: z.string({ error: 'must be a string' }).optional(),
  pythonCode: z.string({ error: 'must be a string' }).optional(),
  codeInputType: caseInsensitiveEnum(['inline', 'InlineBase64'] as const)
    .optional()
    .nullable(),
  executionType: caseInsensitiveEnum(['synchronous'] as const)
    .optional()
    .nullable(),
  stdin: noNul.optional().nullable(),
  args: z
    .array(noNul, { error: 'must be an array of strings' })
    .max(1_000, 'must have at most 1000 entries')
    .optional()
    .nullable(),
  files: z
    .array(fileSchema, { error: 'must be an array of files' })
    .max(100, 'must have at most 100 files')
    .optional()
    .nullable(),
  version: z.string({ error: 'must be a string' }).max(64).optional().nullable(),
  timeoutInSeconds: timeoutSchema.optional().nullable(),
});

/** Parses an Azure execute body into what to run; throws RequestValidationError naming the field. */
export function parseExecuteBody(body: unknown): ExecutionInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestValidationError(
      'request body must be a JSON object such as {"properties": {"code": "print(1)"}}',
      null,
    );
  }
  const wrapper = (body as { properties?: unknown }).properties;
  const wrapped = wrapper !== undefined && wrapper !== null;
  if (wrapped && (typeof wrapper !== 'object' || Array.isArray(wrapper))) {
    throw new RequestValidationError('properties must be a JSON object', 'properties');
  }
  const source = wrapped ? wrapper : body;
  const prefix = wrapped ? 'properties.' : '';
  const parsed = executionFieldsSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = prefix + (issue?.path.join('.') ?? '');
    throw new RequestValidationError(`${field} ${issue?.message ?? 'is invalid'}`.trim(), field);
  }
  const fields = parsed.data;
  const rawCode = fields.code ?? fields.pythonCode;
  if (rawCode === undefined) {
    throw new RequestValidationError(
      `${prefix}code is required: the program to run, as a string (pythonCode is accepted too)`,
      `${prefix}code`,
    );
  }
  const code =
    fields.codeInputType === 'InlineBase64' ? decodeBase64Code(rawCode, `${prefix}code`) : rawCode;
  const timeout = fields.timeoutInSeconds;
  return {
    code,
    ...(fields.stdin != null && { stdin: fields.stdin }),
    ...(fields.args != null && { args: fields.args }),
    files: fields.files ?? [],
    ...(fields.version != null && fields.version !== '' && { version: fields.version }),
    ...(timeout != null && { timeoutSeconds: Number(timeout) }),
  };
}

function decodeBase64Code(encoded: string, field: string): string {
  const compact = encoded.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new RequestValidationError(
      `${field} is not valid base64 (codeInputType is InlineBase64)`,
      field,
    );
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}
