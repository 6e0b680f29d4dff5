import {
  EngineState,
  readyEngineState,
  type EngineSnapshot,
} from '../../adapter/engine/engineState';

const url = 'http://127.0.0.1:2001';

describe('EngineState', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') }));
  afterEach(() => jest.useRealTimers());

  test('starts as starting, with a reason, generation 0 and no pid', () => {
    const state = new EngineState({ mode: 'supervised', url });
    expect(state.snapshot()).toEqual({
      state: 'starting',
      reason: 'engine is starting',
      mode: 'supervised',
      url,
      pid: null,
      restarts: 0,
      lastExit: null,
      generation: 0,
      since: '2026-01-01T00:00:00.000Z',
    });
    expect(state.isReady()).toBe(false);
  });

  test('readyEngineState: attached, ready, generation 1, no reason', () => {
    const state = readyEngineState(url);
    expect(state.snapshot()).toMatchObject({
      state: 'ready',
      reason: null,
      mode: 'attached',
      generation: 1,
    });
    expect(state.isReady()).toBe(true);
  });

  test('becoming ready clears the reason, bumps the generation and restarts the clock', () => {
    const state = new EngineState({ mode: 'supervised', url });
    jest.advanceTimersByTime(5_000);
    state.update({ state: 'ready', reason: 'stale words', pid: 77 });
    expect(state.snapshot()).toMatchObject({
      state: 'ready',
      reason: null,
      pid: 77,
      generation: 1,
      since: '2026-01-01T00:00:05.000Z',
    });
    expect(state.isReady()).toBe(true);
  });

  test('each return to ready is a new generation', () => {
    const state = new EngineState({ mode: 'supervised', url });
    state.update({ state: 'ready' });
    state.update({ state: 'restarting', reason: 'engine exited (code 1)', restarts: 1 });
    expect(state.snapshot()).toMatchObject({
      state: 'restarting',
      reason: 'engine exited (code 1)',
      generation: 1,
    });
    state.update({ state: 'ready' });
    expect(state.snapshot()).toMatchObject({ generation: 2, restarts: 1, reason: null });
  });

  test('an update within one state keeps its generation and since', () => {
    const state = new EngineState({ mode: 'supervised', url });
    state.update({ state: 'ready' });
    jest.advanceTimersByTime(1_000);
    state.update({ state: 'ready', pid: 9 });
    state.update({ pid: 10 });
    expect(state.snapshot()).toMatchObject({
      pid: 10,
      generation: 1,
      since: '2026-01-01T00:00:00.000Z',
    });
  });

  test('a reason can change without a change of state', () => {
    const state = new EngineState({ mode: 'supervised', url });
    state.update({ reason: 'waiting for GET /api/v2/runtimes' });
    expect(state.snapshot()).toMatchObject({
      state: 'starting',
      reason: 'waiting for GET /api/v2/runtimes',
      generation: 0,
    });
  });

  test('every update is announced with the new snapshot', () => {
    const state = new EngineState({ mode: 'supervised', url });
    const seen: EngineSnapshot[] = [];
    state.on('change', (snapshot) => seen.push(snapshot));
    state.update({ state: 'degraded', reason: 'no answer within 60 s' });
    state.update({ state: 'stopping', reason: 'SIGTERM' });
    expect(seen.map((snapshot) => [snapshot.state, snapshot.reason])).toEqual([
      ['degraded', 'no answer within 60 s'],
      ['stopping', 'SIGTERM'],
    ]);
    expect(seen[1]).toBe(state.snapshot());
  });

  test('a snapshot already handed out is not changed by later updates', () => {
    const state = new EngineState({ mode: 'supervised', url });
    const before = state.snapshot();
    state.update({ state: 'ready' });
    expect(before.state).toBe('starting');
    expect(before.generation).toBe(0);
  });
});
