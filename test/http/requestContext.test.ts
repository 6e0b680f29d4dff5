import type { Request } from 'express';
import { AdapterError } from '../../adapter/errors/adapterError';
import {
  identifierForLog,
  identifierOf,
  identifierOfExecution,
} from '../../adapter/http/requestContext';

/**
 * Only the parts these functions read: the raw target (never express's parsed query, which
 * folds repeated parameters into arrays) and the parsed body. The rule itself is tested in
 * test/files/sessionRules.test.ts; this is how a request meets it.
 */
const request = (query: string, body?: unknown) =>
  ({ originalUrl: `/code/execute${query}`, body }) as unknown as Request;

function refusal(run: () => unknown): AdapterError {
  try {
    run();
  } catch (error) {
    if (error instanceof AdapterError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('identifierOf', () => {
  test.each(['abcd', 'user-123', 'x'.repeat(128), 'A1|-&^%$#(){}[];<>'])(
    '%j names its session',
    (identifier) => {
      expect(identifierOf(request(`?identifier=${encodeURIComponent(identifier)}`))).toBe(
        identifier,
      );
    },
  );

  test('no identifier is the container’s own session', () => {
    expect(identifierOf(request(''))).toBeUndefined();
    expect(identifierOf(request('?api-version=2024-02-02-preview'))).toBeUndefined();
  });

  test.each([
    ['empty', '?identifier='],
    ['129 characters', `?identifier=${'x'.repeat(129)}`],
    ['a newline', '?identifier=ab%0Acd'],
    ['a NUL', '?identifier=ab%00cd'],
    ['a space', '?identifier=ab%20cd'],
    ['given twice', '?identifier=abcd&identifier=abcd'],
    ['given twice, differently', '?identifier=abcd&identifier=efgh'],
  ])('%s: 400 invalid_identifier naming the rule', (_what, query) => {
    const error = refusal(() => identifierOf(request(query)));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_identifier');
    expect(error.message).toContain('the rule:');
  });

  test('the access log never throws: an invalid identifier logs as none', () => {
    expect(identifierForLog(request('?identifier=a'))).toBeUndefined();
    expect(identifierForLog(request('?identifier=abcd'))).toBe('abcd');
  });
});

describe('identifierOfExecution', () => {
  test('the query parameter wins over the body', () => {
    expect(
      identifierOfExecution(request('?identifier=query', { properties: { identifier: 'body' } })),
    ).toBe('query');
  });

  test('LlamaIndex TypeScript: properties.identifier', () => {
    expect(identifierOfExecution(request('', { properties: { identifier: 'ID-1' } }))).toBe('ID-1');
  });

  test('generation B: a top-level identifier; properties.identifier is read first', () => {
    expect(identifierOfExecution(request('', { identifier: 'ID-1', code: 'x' }))).toBe('ID-1');
    expect(
      identifierOfExecution(
        request('', { identifier: 'top1', properties: { identifier: 'in-1' } }),
      ),
    ).toBe('in-1');
  });

  test.each([null, undefined, 'text', { properties: null }])(
    'a body without one (%j) gives none',
    (body) => {
      expect(identifierOfExecution(request('', body))).toBeUndefined();
    },
  );

  test('a body identifier must pass the same rule, and be a string', () => {
    expect(
      refusal(() => identifierOfExecution(request('', { properties: { identifier: 'a b' } }))).code,
    ).toBe('invalid_identifier');
    expect(refusal(() => identifierOfExecution(request('', { identifier: 42 }))).message).toContain(
      'not a string',
    );
  });
});
