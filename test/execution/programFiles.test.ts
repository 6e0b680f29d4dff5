import { assembleProgramFiles } from '../../adapter/execution/programFiles';

describe('assembleProgramFiles', () => {
  it('puts the entry point first, then uploads, then request files', () => {
    const files = assembleProgramFiles(
      { name: 'main.py', content: 'code' },
      [{ name: 'data.csv', content: 'a' }],
      [{ name: 'extra.txt', content: 'b' }],
    );
    expect(files.map((file) => file.name)).toEqual(['main.py', 'data.csv', 'extra.txt']);
    expect(files[0]?.content).toBe('code');
  });

  it('a request file replaces an upload of the same name', () => {
    const files = assembleProgramFiles(
      { name: 'main.py', content: 'code' },
      [{ name: 'data.csv', content: 'uploaded' }],
      [{ name: 'data.csv', content: 'sent now' }],
    );
    expect(files).toEqual([
      { name: 'main.py', content: 'code' },
      { name: 'data.csv', content: 'sent now' },
    ]);
  });

  it('never overwrites a file the caller gave: the entry point takes a free name', () => {
    const files = assembleProgramFiles(
      { name: 'main.js', content: 'code' },
      [{ name: 'main.js', content: 'uploaded module' }],
      [{ name: 'code.js', content: 'sent' }],
    );
    expect(files.map((file) => file.name)).toEqual(['code_2.js', 'main.js', 'code.js']);
    expect(files[1]?.content).toBe('uploaded module');
  });

  it('an unnamed entry point stays unnamed (the engine names it)', () => {
    const files = assembleProgramFiles({ name: undefined, content: 'code' }, [], []);
    expect(files).toEqual([{ content: 'code' }]);
  });
});
