/**
 * Input the real Piston answers with an empty 500 (python_args_nul_byte, python_file_name_dot,
 * python_file_name_trailing_slash; contract section 5) is refused before the engine, with a
 * 400 naming the field.
 */
import { parseExecuteBody, RequestValidationError } from '../../adapter/azure/executeRequest';
import { loadFixture } from '../support/fixtures';

function refusal(body: unknown): RequestValidationError {
  try {
    parseExecuteBody(body);
  } catch (error) {
    if (error instanceof RequestValidationError) return error;
    throw error;
  }
  throw new Error('accepted');
}

/** The recorded Piston request as an Azure body: first file the code, the rest beside it. */
function azureBodyOf(name: string): unknown {
  const { files, args } = loadFixture(name).request.body as {
    files: { name: string; content: string }[];
    args?: string[];
  };
  const [main, ...rest] = files;
  return { properties: { code: main?.content, files: rest, ...(args && { args }) } };
}

test.each([
  ['python_args_nul_byte', 'properties.args.0', 'NUL'],
  ['python_file_name_dot', 'properties.files.0.name', 'must name a file'],
  ['python_file_name_trailing_slash', 'properties.files.0.name', 'must name a file'],
])('%s is refused naming %s', (fixture, field, words) => {
  const error = refusal(azureBodyOf(fixture));
  expect(error.field).toBe(field);
  expect(error.message).toContain(words);
});

test.each([
  [{ stdin: 'a\0b' }, 'properties.stdin'],
  [{ files: [{ name: 'a\0b', content: '' }] }, 'properties.files.0.name'],
  [{ files: [{ name: 'dir//x.txt', content: '' }] }, 'properties.files.0.name'],
  [{ files: [{ name: '..', content: '' }] }, 'properties.files.0.name'],
  [{ files: [{ name: 'dir/', content: '' }] }, 'properties.files.0.name'],
])('%j is refused naming %s', (fields, field) => {
  expect(refusal({ properties: { code: 'print(1)', ...fields } }).field).toBe(field);
});

test('ordinary names and strings pass', () => {
  expect(
    parseExecuteBody({
      properties: {
        code: 'print(1)',
        stdin: 'x',
        args: ['a b'],
        files: [
          { name: 'data/in.csv', content: '' },
          { name: '.hidden', content: '' },
        ],
      },
    }),
  ).toMatchObject({ stdin: 'x', args: ['a b'] });
});
