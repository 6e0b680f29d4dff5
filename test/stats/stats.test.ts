import { AdapterStats } from '../../adapter/stats/stats';

describe('AdapterStats', () => {
  afterEach(() => jest.useRealTimers());

  test('counts requests in total and by status class', () => {
    const stats = new AdapterStats(10);
    for (const status of [200, 201, 204, 404, 429, 503]) stats.recordRequest(status, undefined);
    expect(stats.snapshot().requests).toEqual({
      total: 6,
      byStatus: { '2xx': 3, '4xx': 2, '5xx': 1 },
    });
  });

  test('counts executions by language and errors by code', () => {
    const stats = new AdapterStats(10);
    stats.recordExecution('python');
    stats.recordExecution('python');
    stats.recordExecution('c');
    stats.recordError('queue_full');
    const snapshot = stats.snapshot();
    expect(snapshot.executionsByLanguage).toEqual({ python: 2, c: 1 });
    expect(snapshot.errorsByCode).toEqual({ queue_full: 1 });
  });

  test('a fresh counter is empty', () => {
    expect(new AdapterStats(5).snapshot()).toEqual({
      requests: { total: 0, byStatus: {} },
      executionsByLanguage: {},
      errorsByCode: {},
      identifiers: { tracked: 0, evicted: 0, limit: 5, recent: {} },
    });
  });

  test('tracks identifiers by operations and last activity, most recent first', () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00.000Z') });
    const stats = new AdapterStats(10);
    stats.recordRequest(200, 'a');
    jest.advanceTimersByTime(1_000);
    stats.recordRequest(200, 'b');
    jest.advanceTimersByTime(1_000);
    stats.recordRequest(500, 'a');
    expect(stats.recentIdentifiers()).toEqual(['a', 'b']);
    expect(stats.lastActivityOf('a')).toBe('2026-01-01T00:00:02.000Z');
    expect(stats.lastActivityOf('b')).toBe('2026-01-01T00:00:01.000Z');
    expect(stats.lastActivityOf('c')).toBeUndefined();
    const { recent } = stats.snapshot().identifiers;
    expect(Object.keys(recent)).toEqual(['a', 'b']);
    expect(recent['a']).toEqual({ operations: 2, lastActivity: '2026-01-01T00:00:02.000Z' });
  });

  test('requests without an identifier are counted but not tracked', () => {
    const stats = new AdapterStats(10);
    stats.recordRequest(200, undefined);
    expect(stats.snapshot().identifiers.tracked).toBe(0);
    expect(stats.recentIdentifiers()).toEqual([]);
  });

  test('keeps at most the limit, evicting the least recently seen', () => {
    const stats = new AdapterStats(2);
    stats.recordRequest(200, 'a');
    stats.recordRequest(200, 'b');
    stats.recordRequest(200, 'a');
    stats.recordRequest(200, 'c');
    expect(stats.recentIdentifiers()).toEqual(['c', 'a']);
    stats.recordRequest(200, 'd');
    expect(stats.recentIdentifiers()).toEqual(['d', 'c']);
    expect(stats.snapshot().identifiers).toMatchObject({ tracked: 2, evicted: 2, limit: 2 });
  });

  test('an evicted identifier seen again starts over', () => {
    const stats = new AdapterStats(1);
    stats.recordRequest(200, 'a');
    stats.recordRequest(200, 'a');
    stats.recordRequest(200, 'b');
    stats.recordRequest(200, 'a');
    expect(stats.snapshot().identifiers.recent['a']?.operations).toBe(1);
  });

  test('a snapshot is a copy: changing it changes no counter', () => {
    const stats = new AdapterStats(10);
    stats.recordRequest(200, 'a');
    const snapshot = stats.snapshot();
    snapshot.requests.byStatus['2xx'] = 99;
    snapshot.executionsByLanguage['python'] = 99;
    expect(stats.snapshot().requests.byStatus['2xx']).toBe(1);
    expect(stats.snapshot().executionsByLanguage).toEqual({});
  });
});
