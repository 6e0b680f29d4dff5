import { readRunnerOutput, type RunnerOutput } from '../../adapter/execution/pythonRunner/index';

const NONCE = '0123456789abcdef0123456789abcdef';
const HEAD = `\u001e${NONCE}:`;

const read = (overrides: Partial<RunnerOutput>) =>
  readRunnerOutput({
    stdout: '',
    nonce: NONCE,
    file: null,
    stopReason: null,
    outputMaxBytes: 1024,
    ...overrides,
  });

describe('readRunnerOutput: the result on stdout', () => {
  it('leaves stdout alone when there is no marker (the code raised or was killed)', () => {
    expect(read({ stdout: 'partial output' })).toEqual({
      stdout: 'partial output',
      result: '',
      resultNote: null,
      finishedBeforeKill: false,
    });
  });

  it('takes the marker out and keeps output printed after it (a thread still running)', () => {
    const report = read({ stdout: `a\n${HEAD}{"value": 3}\nlate\n` });
    expect(report).toMatchObject({ stdout: 'a\nlate\n', result: 3, resultNote: null });
  });

  it('passes the note the runner wrote beside the value', () => {
    const report = read({ stdout: `${HEAD}{"value": "x...", "note": "cut"}\n` });
    expect(report).toMatchObject({ stdout: '', result: 'x...', resultNote: 'cut' });
  });

  // Every length at which the engine's limit can cut the marker: nothing of it may stay in
  // stdout, and once 8 nonce characters show, the runner is known to have finished.
  const marker = `${HEAD}{"value": 1}`;
  it.each(Array.from({ length: marker.length }, (_, index) => index + 1))(
    'a marker cut after %d characters leaves no trace',
    (cutAt) => {
      const report = read({ stdout: `out${marker.slice(0, cutAt)}`, stopReason: 'outputLimit' });
      expect(report.stdout).toBe('out');
      expect(report.result).toBe('');
      const trusted = cutAt > 8;
      expect(report.finishedBeforeKill).toBe(trusted);
      if (trusted) expect(report.resultNote).toContain('output limit of 1024 bytes');
    },
  );

  it('a record separator ending output the engine did not cut is the program’s own', () => {
    expect(read({ stdout: 'out\u001e0123' }).stdout).toBe('out\u001e0123');
  });

  it('output ending in text that is not the nonce is kept, cut or not', () => {
    expect(read({ stdout: 'out\u001episton', stopReason: 'outputLimit' }).stdout).toBe(
      'out\u001episton',
    );
  });
});

describe('readRunnerOutput: the result file', () => {
  it.each(['outputLimit', 'timeout', 'signal'])(
    'a run the engine stopped (%s) has no result, even where the code finished first',
    (stopReason) => {
      const report = read({ file: { kind: 'text', text: '{"value": 1}' }, stopReason });
      expect(report.result).toBe('');
      expect(report.resultNote).toContain(`the engine stopped the run (${stopReason})`);
    },
  );

  it('reads the value from the file and leaves stdout as it was', () => {
    const report = read({ stdout: 'hi\n', file: { kind: 'text', text: '{"value": [1]}' } });
    expect(report).toMatchObject({ stdout: 'hi\n', result: [1], resultNote: null });
  });

  it('no file means no value, and nothing to say', () => {
    expect(read({ file: { kind: 'missing' } })).toMatchObject({ result: '', resultNote: null });
  });

  it('a file it cannot read is said in the note', () => {
    const report = read({ file: { kind: 'unreadable', reason: 'too big' } });
    expect(report).toMatchObject({ result: '', resultNote: 'too big' });
    expect(read({ file: { kind: 'text', text: '{"val' } }).resultNote).toContain('no readable');
  });

  it.each(['', '{"val'])(
    "a file cut by the engine's kill (%j) is said to be the kill, not an unreadable file",
    (text) => {
      const report = read({ file: { kind: 'text', text }, stopReason: 'outputLimit' });
      expect(report.result).toBe('');
      expect(report.resultNote).toBe(
        'the engine stopped the run (outputLimit) while the runner wrote its result, so it is left out',
      );
    },
  );

  it('a result the runner could not write to its file comes on stdout, with its note', () => {
    const report = read({
      stdout: `x\n${HEAD}{"value": 5, "note": "the result file could not be written"}\n`,
      file: { kind: 'missing' },
    });
    expect(report).toMatchObject({ stdout: 'x\n', result: 5 });
    expect(report.resultNote).toContain('could not be written');
  });
});
