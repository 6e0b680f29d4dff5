import { parseCommandLine } from '../../adapter/supervisor/engineProcess';

describe('parseCommandLine (ENGINE_COMMAND)', () => {
  test.each([
    ['node /piston_api/src', ['node', '/piston_api/src']],
    ['  node   main.js  --x ', ['node', 'main.js', '--x']],
    ['/opt/my\\ engine/run --flag', ['/opt/my engine/run', '--flag']],
    ['/a\\ b\\ c', ['/a b c']],
    ['say "two words"', ['say', '"two', 'words"']],
    ['', []],
  ])('%j', (command, argv) => {
    expect(parseCommandLine(command)).toEqual(argv);
  });
});
