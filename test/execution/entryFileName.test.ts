import { entryFileName } from '../../adapter/execution/entryFileName';

describe('entryFileName', () => {
  test.each([
    ['python', 'main.py'],
    ['javascript', 'main.js'],
    ['typescript', 'main.ts'],
    ['bash', 'main.sh'],
    ['c', 'main.c'],
    ['c++', 'main.cpp'],
    ['go', 'main.go'],
    ['rust', 'main.rs'],
    ['java', 'main.java'],
    ['csharp', 'main.cs'],
  ])('%s code goes in %s', (language, name) => {
    expect(entryFileName(language)).toBe(name);
  });

  test('the language name is compared without case', () => {
    expect(entryFileName('Python')).toBe('main.py');
    expect(entryFileName('C++')).toBe('main.cpp');
  });

  test.each(['brainfuck', 'cobol', '', 'py', 'toString', 'constructor', '__proto__'])(
    '%j keeps the engine default name',
    (language) => {
      expect(entryFileName(language)).toBeUndefined();
    },
  );
});
