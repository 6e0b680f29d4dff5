import { Writable } from 'node:stream';
import { createLogger } from '../../adapter/logging/logger';
import type { EngineExitStatus, EngineProcess } from '../../adapter/supervisor/engineProcess';
import { terminateEngine } from '../../adapter/supervisor/engineStop';

/**
 * A fake engine process: what terminateEngine needs is the EngineProcess interface (signal
 * the group, wait for the exit). A real child's signal handling is tested in shutdown.test.ts.
 */
function fakeEngine(exitOn: NodeJS.Signals[]) {
  const signals: NodeJS.Signals[] = [];
  let exit: (status: EngineExitStatus) => void = () => undefined;
  const engine: EngineProcess = {
    pid: 4242,
    exited: new Promise((resolve) => (exit = resolve)),
    signalGroup(signal) {
      signals.push(signal);
      if (exitOn.includes(signal)) exit({ code: null, signal, error: null });
      return true;
    },
  };
  return { engine, signals };
}

function capturedLogger() {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: createLogger('info', destination), lines };
}

describe('terminateEngine', () => {
  test('an engine that exits on SIGTERM gets nothing more', async () => {
    const { engine, signals } = fakeEngine(['SIGTERM']);
    const { logger, lines } = capturedLogger();
    await expect(terminateEngine(engine, 60_000, logger)).resolves.toEqual({
      code: null,
      signal: 'SIGTERM',
      error: null,
    });
    expect(signals).toEqual(['SIGTERM']);
    expect(lines.map((line) => line.msg)).toEqual(['engine stopped']);
    expect(lines[0]).toMatchObject({ enginePid: 4242, signal: 'SIGTERM' });
  });

  test('an engine that ignores SIGTERM is killed after the stop timeout', async () => {
    const { engine, signals } = fakeEngine(['SIGKILL']);
    const { logger, lines } = capturedLogger();
    await expect(terminateEngine(engine, 10, logger)).resolves.toMatchObject({
      signal: 'SIGKILL',
    });
    expect(signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(lines.map((line) => line.msg)).toEqual([
      'engine ignored SIGTERM; sending SIGKILL',
      'engine stopped',
    ]);
    expect(lines[0]).toMatchObject({ enginePid: 4242, stopTimeoutMs: 10 });
  });

  test('an engine already gone is reported at once', async () => {
    const { engine, signals } = fakeEngine([]);
    const done = terminateEngine(
      {
        ...engine,
        exited: Promise.resolve({ code: 0, signal: null, error: null }),
      },
      60_000,
      capturedLogger().logger,
    );
    await expect(done).resolves.toEqual({ code: 0, signal: null, error: null });
    expect(signals).toEqual(['SIGTERM']);
  });

  // Waits out the real 2 s SIGKILL grace (node:timers/promises, beyond jest's fake timers).
  test('an engine that survives SIGKILL gives null, and the failure is logged', async () => {
    const { engine, signals } = fakeEngine([]);
    const { logger, lines } = capturedLogger();
    await expect(terminateEngine(engine, 10, logger)).resolves.toBeNull();
    expect(signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(lines.at(-1)).toMatchObject({
      msg: 'engine did not exit even after SIGKILL',
      level: 50,
      enginePid: 4242,
    });
  });
});
