import { toExecutionsResponse } from '../../adapter/azure/executionsResponse';
import { ExecutionHistory } from '../../adapter/execution/executionHistory';
import { sampleOutcome } from '../support/outcomes';

const outcome = sampleOutcome({ stdout: '', result: '', executionTimeInMilliseconds: 1 });

const execution = (id: string, identifier: string | undefined) =>
  toExecutionsResponse({ id, identifier, outcome });

describe('ExecutionHistory', () => {
  test('finds an execution by id for its own identifier', () => {
    const history = new ExecutionHistory(10);
    const kept = execution('e1', 'alice');
    history.add(kept);
    expect(history.find('e1', 'alice')).toBe(kept);
    expect(history.find('e2', 'alice')).toBeUndefined();
  });

  test("another session's execution stays invisible", () => {
    const history = new ExecutionHistory(10);
    history.add(execution('e1', 'alice'));
    expect(history.find('e1', 'bob')).toBeUndefined();
    expect(history.find('e1', undefined)).toBeUndefined();
  });

  test('no identifier is its own session, matched by no identifier only', () => {
    const history = new ExecutionHistory(10);
    history.add(execution('e1', undefined));
    expect(history.find('e1', undefined)?.id).toBe('e1');
    expect(history.find('e1', 'alice')).toBeUndefined();
  });

  test('keeps at most `limit` executions, dropping the oldest first', () => {
    const history = new ExecutionHistory(3);
    for (const id of ['e1', 'e2', 'e3', 'e4', 'e5']) history.add(execution(id, 'alice'));
    expect(history.size).toBe(3);
    expect(history.find('e1', 'alice')).toBeUndefined();
    expect(history.find('e2', 'alice')).toBeUndefined();
    expect(['e3', 'e4', 'e5'].map((id) => history.find(id, 'alice')?.id)).toEqual([
      'e3',
      'e4',
      'e5',
    ]);
  });

  test('the bound counts every session together', () => {
    const history = new ExecutionHistory(2);
    history.add(execution('a1', 'alice'));
    history.add(execution('b1', 'bob'));
    history.add(execution('b2', 'bob'));
    expect(history.countFor('alice')).toBe(0);
    expect(history.countFor('bob')).toBe(2);
  });

  test('forget removes one session only and says how many went', () => {
    const history = new ExecutionHistory(10);
    history.add(execution('a1', 'alice'));
    history.add(execution('a2', 'alice'));
    history.add(execution('b1', 'bob'));
    history.add(execution('n1', undefined));
    expect(history.forget('alice')).toBe(2);
    expect(history.find('a1', 'alice')).toBeUndefined();
    expect(history.find('b1', 'bob')?.id).toBe('b1');
    expect(history.countFor(undefined)).toBe(1);
    expect(history.forget('alice')).toBe(0);
    expect(history.forget(undefined)).toBe(1);
    expect(history.size).toBe(1);
  });

  test('countFor counts per identifier', () => {
    const history = new ExecutionHistory(10);
    history.add(execution('a1', 'alice'));
    history.add(execution('n1', undefined));
    history.add(execution('n2', undefined));
    expect(history.countFor('alice')).toBe(1);
    expect(history.countFor(undefined)).toBe(2);
    expect(history.countFor('carol')).toBe(0);
  });
});
