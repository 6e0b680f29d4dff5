import { parseExecuteBody, RequestValidationError } from '../../adapter/azure/executeRequest';

/** The RequestValidationError a body raises (fails the test when it parses). */
function rejectionOf(body: unknown): RequestValidationError {
  try {
    parseExecuteBody(body);
  } catch (error) {
    if (error instanceof RequestValidationError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
}

describe('parseExecuteBody: the three dialects (contract section 2)', () => {
  test('generation A: fields under properties', () => {
    expect(
      parseExecuteBody({
        properties: {
          codeInputType: 'inline',
          executionType: 'synchronous',
          code: 'print(1)',
          timeoutInSeconds: 100,
        },
      }),
    ).toEqual({ code: 'print(1)', files: [], timeoutSeconds: 100 });
  });

  test('legacy path: pythonCode under properties, with an identifier we ignore here', () => {
    expect(
      parseExecuteBody({
        properties: {
          identifier: 'ID',
          codeInputType: 'inline',
          executionType: 'synchronous',
          pythonCode: 'print(2)',
        },
      }),
    ).toEqual({ code: 'print(2)', files: [] });
  });

  test('generation B: the same fields at the top level', () => {
    expect(
      parseExecuteBody({
        identifier: 'ID',
        codeInputType: 'Inline',
        executionType: 'Synchronous',
        code: 'print(3)',
        timeoutInSeconds: 60,
      }),
    ).toEqual({ code: 'print(3)', files: [], timeoutSeconds: 60 });
  });

  test('a null properties wrapper reads the top level', () => {
    expect(parseExecuteBody({ properties: null, code: 'x' })).toEqual({ code: 'x', files: [] });
  });

  test('code wins over pythonCode when both are sent', () => {
    expect(parseExecuteBody({ code: 'a', pythonCode: 'b' }).code).toBe('a');
  });

  test('an empty program is a program', () => {
    expect(parseExecuteBody({ properties: { code: '' } }).code).toBe('');
  });
});

describe('parseExecuteBody: enums compare case-insensitively', () => {
  test.each(['inline', 'Inline', 'INLINE'])('codeInputType %s', (codeInputType) => {
    expect(parseExecuteBody({ codeInputType, code: 'x' }).code).toBe('x');
  });

  test.each(['synchronous', 'Synchronous', 'SYNCHRONOUS'])('executionType %s', (executionType) => {
    expect(parseExecuteBody({ executionType, code: 'x' }).code).toBe('x');
  });

  test('null enums are as good as absent', () => {
    expect(parseExecuteBody({ codeInputType: null, executionType: null, code: 'x' }).code).toBe(
      'x',
    );
  });

  test('an unknown enum value is refused, naming the field and the choices', () => {
    const error = rejectionOf({ properties: { codeInputType: 'file', code: 'x' } });
    expect(error.field).toBe('properties.codeInputType');
    expect(error.message).toContain('inline, InlineBase64');
    expect(error.message).toContain('"file"');
    // Named once, by its path.
    expect(error.message.match(/codeInputType/g)).toHaveLength(1);
  });

  test('executionType asynchronous is refused', () => {
    expect(rejectionOf({ executionType: 'asynchronous', code: 'x' }).field).toBe('executionType');
  });
});

describe('parseExecuteBody: InlineBase64 code', () => {
  const encoded = Buffer.from('print("hé")\n').toString('base64');

  test.each(['InlineBase64', 'inlinebase64'])('%s is decoded as UTF-8', (codeInputType) => {
    expect(parseExecuteBody({ codeInputType, code: encoded }).code).toBe('print("hé")\n');
  });

  test('whitespace inside the base64 is ignored', () => {
    const wrapped = `${encoded.slice(0, 4)}\n${encoded.slice(4)} `;
    expect(parseExecuteBody({ codeInputType: 'InlineBase64', code: wrapped }).code).toBe(
      'print("hé")\n',
    );
  });

  test.each(['not base64!', 'abcde'])('%j is refused as invalid base64', (code) => {
    const error = rejectionOf({ properties: { codeInputType: 'InlineBase64', code } });
    expect(error.field).toBe('properties.code');
    expect(error.message).toContain('base64');
  });

  test('inline code is never decoded', () => {
    expect(parseExecuteBody({ codeInputType: 'inline', code: encoded }).code).toBe(encoded);
  });
});

describe('parseExecuteBody: timeouts are read, never refused for their size', () => {
  test.each([
    [100, 100],
    [0.5, 0.5],
    ['30', 30],
    [' 7 ', 7],
    ['2.5', 2.5],
    [-1, -1],
    [100000, 100000],
  ])('timeoutInSeconds %j gives %j', (timeoutInSeconds, expected) => {
    expect(parseExecuteBody({ code: 'x', timeoutInSeconds }).timeoutSeconds).toBe(expected);
  });

  test('absent or null: no timeout requested', () => {
    expect(parseExecuteBody({ code: 'x' })).not.toHaveProperty('timeoutSeconds');
    expect(parseExecuteBody({ code: 'x', timeoutInSeconds: null })).not.toHaveProperty(
      'timeoutSeconds',
    );
  });

  test.each([[true], [[10]], [{}]])(
    'timeoutInSeconds %j is not a number of seconds',
    (timeoutInSeconds) => {
      const error = rejectionOf({ properties: { code: 'x', timeoutInSeconds } });
      expect(error.field).toBe('properties.timeoutInSeconds');
      expect(error.message).toContain('must be a number of seconds');
    },
  );

  test.each([['soon'], ['10s'], ['']])('timeoutInSeconds %j is refused', (timeoutInSeconds) => {
    const error = rejectionOf({ properties: { code: 'x', timeoutInSeconds } });
    expect(error.field).toBe('properties.timeoutInSeconds');
    // The rule in words, not the pattern behind it.
    expect(error.message).toBe('properties.timeoutInSeconds must be a number of seconds');
  });
});

describe('parseExecuteBody: the extensions of POST /:lang/execute', () => {
  test('stdin, args, files and version are passed on', () => {
    expect(
      parseExecuteBody({
        properties: {
          code: 'x',
          stdin: 'in',
          args: ['a', 'b'],
          files: [
            { name: 'data.txt', content: 'hello' },
            { name: 'dir/blob.bin', content: 'aGk=', encoding: 'Base64' },
          ],
          version: '3.12',
        },
      }),
    ).toEqual({
      code: 'x',
      stdin: 'in',
      args: ['a', 'b'],
      files: [
        { name: 'data.txt', content: 'hello' },
        { name: 'dir/blob.bin', content: 'aGk=', encoding: 'base64' },
      ],
      version: '3.12',
    });
  });

  test('null or empty extensions are left out', () => {
    const input = parseExecuteBody({
      code: 'x',
      stdin: null,
      args: null,
      files: null,
      version: '',
    });
    expect(input).toEqual({ code: 'x', files: [] });
  });

  test('an empty stdin is still sent', () => {
    expect(parseExecuteBody({ code: 'x', stdin: '' }).stdin).toBe('');
  });

  test.each([
    [{ args: 'a b' }, 'args', 'must be an array of strings'],
    [{ args: ['a', 2] }, 'args.1', 'must be a string'],
    [{ stdin: 5 }, 'stdin', 'must be a string'],
    [{ version: 3 }, 'version', 'must be a string'],
    [{ files: {} }, 'files', 'must be an array of files'],
    [{ files: ['a.txt'] }, 'files.0', 'must be an object {name, content, encoding?}'],
    [{ files: [{ name: 'a.txt' }] }, 'files.0.content', 'must be a string'],
    [{ files: [{ content: 'x' }] }, 'files.0.name', 'must be a string'],
    [{ files: [{ name: '', content: 'x' }] }, 'files.0.name', 'must not be empty'],
    [
      { files: [{ name: 'a.txt', content: 'x', encoding: 'utf16' }] },
      'files.0.encoding',
      'utf8, base64, hex',
    ],
  ])('%j is refused at %s', (extension, field, message) => {
    const error = rejectionOf({ properties: { code: 'x', ...extension } });
    expect(error.field).toBe(`properties.${field}`);
    expect(error.message).toContain(message);
  });

  test.each(['../escape.txt', 'a/../../b', '/etc/passwd', '\\windows', 'a\\..\\b'])(
    'file name %j must stay inside the job directory',
    (name) => {
      const error = rejectionOf({ code: 'x', files: [{ name, content: '' }] });
      expect(error.field).toBe('files.0.name');
      expect(error.message).toContain('inside the job directory');
    },
  );

  test('names that only look like ".." are fine', () => {
    const files = [
      { name: '..hidden', content: '' },
      { name: 'a..b/c', content: '' },
    ];
    expect(parseExecuteBody({ code: 'x', files }).files).toEqual(files);
  });

  test('a 255-character file name is fine, 256 is not', () => {
    expect(
      parseExecuteBody({ code: 'x', files: [{ name: 'n'.repeat(255), content: '' }] }).files,
    ).toHaveLength(1);
    expect(rejectionOf({ code: 'x', files: [{ name: 'n'.repeat(256), content: '' }] }).field).toBe(
      'files.0.name',
    );
  });

  test('at most 100 files and 1000 args', () => {
    const files = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ name: `f${i}`, content: '' }));
    expect(parseExecuteBody({ code: 'x', files: files(100) }).files).toHaveLength(100);
    expect(rejectionOf({ code: 'x', files: files(101) }).field).toBe('files');
    expect(parseExecuteBody({ code: 'x', args: Array(1000).fill('a') }).args).toHaveLength(1000);
    expect(rejectionOf({ code: 'x', args: Array(1001).fill('a') }).field).toBe('args');
  });
});

describe('parseExecuteBody: bodies that are not an execution', () => {
  test.each([[null], [[]], ['print(1)'], [42], [undefined]])('%j is not a JSON object', (body) => {
    const error = rejectionOf(body);
    expect(error.field).toBeNull();
    expect(error.message).toContain('must be a JSON object');
  });

  test.each([['print(1)'], [['print(1)']], [7]])('properties %j is not an object', (properties) => {
    const error = rejectionOf({ properties });
    expect(error.field).toBe('properties');
  });

  test('no code at all names the field, with the dialect prefix', () => {
    const wrapped = rejectionOf({ properties: { codeInputType: 'inline' } });
    expect(wrapped.field).toBe('properties.code');
    expect(wrapped.message).toContain('pythonCode is accepted too');
    expect(rejectionOf({}).field).toBe('code');
  });

  test.each([[1], [null], [['print(1)']], [{ text: 'print(1)' }]])(
    'code %j is not a string',
    (code) => {
      const error = rejectionOf({ properties: { code } });
      expect(error.field).toBe('properties.code');
      expect(error.message).toBe('properties.code must be a string');
    },
  );

  test('pythonCode of the wrong type is refused too', () => {
    expect(rejectionOf({ properties: { pythonCode: 1 } }).field).toBe('properties.pythonCode');
  });

  test('the error is a RequestValidationError', () => {
    const error = rejectionOf({});
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RequestValidationError');
  });
});
