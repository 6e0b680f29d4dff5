import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { alternatingRequests, shuffled } from '../../scripts/bench/support/alternating';

// The bench's one-connection comparison (python-result @1 conn): the targets must take turns
// request by request, one in flight at a time, or drift would land in their difference.
describe('bench: requests taking turns', () => {
  let server: http.Server;
  let base: string;
  const arrivals: string[] = [];
  let inFlight = 0;
  let mostInFlight = 0;

  beforeEach(async () => {
    arrivals.length = 0;
    inFlight = 0;
    mostInFlight = 0;
    server = http.createServer((req, res) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      // In flight until its answer is out: a request sent before that would overlap it.
      res.once('finish', () => {
        inFlight -= 1;
      });
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        arrivals.push(`${req.url} ${Buffer.concat(chunks).toString()}`);
        if (req.url === '/silent') return; // never answers
        setImmediate(() => {
          res.writeHead(req.url === '/refused' ? 429 : 200, {
            'content-type': 'application/json',
          });
          res.end('{}');
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('each turn sends one request to every target, one at a time, with its body', async () => {
    const turns = 20;
    const results = await alternatingRequests(
      [
        { url: `${base}/a`, body: '{"n":1}' },
        { url: `${base}/b`, body: '{"n":2}' },
        { url: `${base}/c`, body: '{"n":3}' },
      ],
      turns,
    );
    expect(mostInFlight).toBe(1);
    expect(arrivals).toHaveLength(3 * turns);
    const orders = new Set<string>();
    for (let turn = 0; turn < turns; turn += 1) {
      const sent = arrivals.slice(turn * 3, turn * 3 + 3);
      expect([...sent].sort()).toEqual(['/a {"n":1}', '/b {"n":2}', '/c {"n":3}']);
      orders.add(sent.join(' '));
    }
    // Shuffled each turn: one fixed order in 20 turns of 3 targets has odds of 6^-19.
    expect(orders.size).toBeGreaterThan(1);
    for (const result of results) {
      expect(result.latencies).toHaveLength(turns);
      expect(result.failures).toBe(0);
      expect(result.latencies.every((ms) => ms > 0)).toBe(true);
      // Busy time is every request's time, so it is at least the sum of the kept latencies.
      const sum = result.latencies.reduce((a, b) => a + b, 0);
      expect(result.busyMs).toBeGreaterThanOrEqual(sum - 1e-6);
    }
  });

  test('shuffled gives every index once', () => {
    for (const count of [0, 1, 2, 5]) {
      expect(shuffled(count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: count }, (_, index) => index),
      );
    }
  });

  test('answers other than 200, refused connections and silence count as failures, not latencies', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const timeoutMs = 200;
    const [ok, refused, unreachable, silent] = await alternatingRequests(
      [
        { url: `${base}/a`, body: '{}' },
        { url: `${base}/refused`, body: '{}' },
        { url: `http://127.0.0.1:${closedPort}/x`, body: '{}' },
        { url: `${base}/silent`, body: '{}' },
      ],
      2,
      timeoutMs,
    );
    expect(ok).toMatchObject({ failures: 0 });
    expect(ok?.latencies).toHaveLength(2);
    expect(refused).toMatchObject({ failures: 2, latencies: [] });
    expect(unreachable).toMatchObject({ failures: 2, latencies: [] });
    expect(silent).toMatchObject({ failures: 2, latencies: [] });
    // A failed request's time counts too: the silent target was waited on until its timeout.
    expect(silent?.busyMs).toBeGreaterThanOrEqual(2 * timeoutMs - 5);
  });
});
