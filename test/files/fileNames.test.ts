import { contentTypeOf } from '../../adapter/files/contentTypes';
import { parseFileName } from '../../adapter/files/fileNames';
import { AdapterError } from '../../adapter/errors/adapterError';

function refusal(raw: string | undefined): AdapterError {
  try {
    parseFileName(raw);
  } catch (error) {
    if (error instanceof AdapterError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('parseFileName', () => {
  test.each([
    ['data.csv', 'data.csv'],
    ['/mnt/data/data.csv', 'data.csv'],
    ['report 2024 (final).xlsx', 'report 2024 (final).xlsx'],
    ['données_été.csv', 'données_été.csv'],
    ['a..b.txt', 'a..b.txt'],
    ['x'.repeat(255), 'x'.repeat(255)], // 255 bytes, the most a filesystem name holds
    ['/mnt/data/' + 'é'.repeat(127), 'é'.repeat(127)], // 254 bytes after the prefix
    ['no-extension', 'no-extension'],
  ])('accepts %#: %j', (raw, expected) => {
    expect(parseFileName(raw)).toBe(expected);
  });

  test.each([
    [undefined, 'empty'],
    ['', 'empty'],
    ['/mnt/data/', 'empty'],
    ['..', 'leave the session folder'],
    ['.', 'leave the session folder'],
    ['../secret.txt', 'leave the session folder'],
    ['/mnt/data/../etc/passwd', 'leave the session folder'],
    ['a/../../b', 'leave the session folder'],
    ['..\\x.txt', 'leave the session folder'],
    ['/etc/passwd', 'absolute paths are refused'],
    ['/mnt/data', 'absolute paths are refused'],
    ['a\\b.txt', 'backslash'],
    ['C:\\temp\\x.csv', 'backslash'],
    ['sub/x.csv', 'folders are not supported'],
    ['.env', 'hidden'],
    ['/mnt/data/.bashrc', 'hidden'],
    ['a\u0000b', 'control character'],
    ['line\nbreak.txt', 'control character'],
    ['tab\there', 'control character'],
    ['del\u007f', 'control character'],
    ['x'.repeat(256), 'longer than 255 bytes'],
    ['é'.repeat(128), 'longer than 255 bytes'],
  ])('refuses %#: %j (%s) with 400 invalid_file_name', (raw, reason) => {
    const error = refusal(raw);
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_file_name');
    expect(error.message).toContain(reason);
    expect(error.details).toEqual({ name: raw ?? null, reason: expect.stringContaining(reason) });
  });
});

describe('contentTypeOf', () => {
  test.each([
    ['data.csv', 'text/csv'],
    ['DATA.CSV', 'text/csv'],
    ['notes.txt', 'text/plain'],
    ['chart.png', 'image/png'],
    ['config.json', 'application/json'],
    ['script.py', 'text/x-python'],
    ['blob.bin', 'application/octet-stream'],
    ['README', 'application/octet-stream'],
  ])('%s is %s', (name, type) => {
    expect(contentTypeOf(name)).toBe(type);
  });
});
