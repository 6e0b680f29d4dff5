import type { Request } from 'express';
import { identifierOf, identifierOfExecution } from '../../adapter/http/requestContext';

/** Only the parts these functions read: express parses query and body before them. */
const request = (query: Record<string, unknown>, body?: unknown) =>
  ({ query, body }) as unknown as Request;

describe('identifierOf', () => {
  test.each(['S1', 'a', 'x'.repeat(128), 'with space', 'ünï/cøde..', '../x'])(
    '%j names its session',
    (identifier) => {
      expect(identifierOf(request({ identifier }))).toBe(identifier);
    },
  );

  test.each([
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a newline', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['a tab', 'a\tb'],
  ])('%s counts as absent', (_what, identifier) => {
    expect(identifierOf(request({ identifier }))).toBeUndefined();
  });

  test('repeated or nested query values count as absent, never refused', () => {
    expect(identifierOf(request({ identifier: ['a', 'b'] }))).toBeUndefined();
    expect(identifierOf(request({ identifier: { x: 'y' } }))).toBeUndefined();
    expect(identifierOf(request({}))).toBeUndefined();
  });
});

describe('identifierOfExecution', () => {
  test('the query parameter wins over the body', () => {
    expect(
      identifierOfExecution(request({ identifier: 'q' }, { properties: { identifier: 'b' } })),
    ).toBe('q');
  });

  test('LlamaIndex TypeScript: properties.identifier', () => {
    expect(identifierOfExecution(request({}, { properties: { identifier: 'ID' } }))).toBe('ID');
  });

  test('generation B: a top-level identifier', () => {
    expect(identifierOfExecution(request({}, { identifier: 'ID', code: 'x' }))).toBe('ID');
  });

  test('properties.identifier is read before the top level one', () => {
    expect(
      identifierOfExecution(request({}, { identifier: 'top', properties: { identifier: 'in' } })),
    ).toBe('in');
  });

  test('an invalid query identifier falls back to the body', () => {
    expect(
      identifierOfExecution(request({ identifier: '' }, { properties: { identifier: 'ID' } })),
    ).toBe('ID');
  });

  test.each([
    ['no body', undefined],
    ['a null body', null],
    ['a string body', 'identifier'],
    ['a number', { identifier: 7 }],
    ['an empty string', { properties: { identifier: '' } }],
    ['a control character', { identifier: 'a\rb' }],
    ['too long', { identifier: 'y'.repeat(129) }],
    ['null properties', { properties: null }],
  ])('%s gives no identifier', (_what, body) => {
    expect(identifierOfExecution(request({}, body))).toBeUndefined();
  });
});
