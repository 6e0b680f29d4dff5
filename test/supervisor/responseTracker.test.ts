import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ResponseTracker } from '../../adapter/supervisor/responseTracker';
import { waitFor } from '../support/waitFor';

/** A real server on port 0: the tracker works on node:http's own request and response. */
let server: http.Server;
let tracker: ResponseTracker;
let agent: http.Agent;
const held: http.ServerResponse[] = [];

beforeEach(async () => {
  held.length = 0;
  // The app's handler is attached first and answers synchronously: the tracker must still
  // see each response before it.
  server = http.createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else if (req.url === '/begun') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      held.push(res);
    } else res.end('now');
  });
  tracker = new ResponseTracker(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  agent = new http.Agent({ keepAlive: true });
});

afterEach(async () => {
  agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function get(path: string): Promise<{ connection: string | undefined; body: string }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ connection: res.headers.connection, body }));
      })
      .on('error', reject);
  });
}

describe('ResponseTracker', () => {
  test('before a drain, connections are kept alive', async () => {
    expect(await get('/now')).toEqual({ connection: 'keep-alive', body: 'now' });
  });

  test('a response under way when the drain starts goes out with connection: close', async () => {
    const answer = get('/hold');
    await waitFor(() => held.length === 1, { what: 'the held request' });
    tracker.drain();
    held[0]?.end('held');
    expect(await answer).toEqual({ connection: 'close', body: 'held' });
  });

  test('every response after the drain closes its connection, even a synchronous one', async () => {
    await get('/now');
    tracker.drain();
    expect(await get('/now')).toEqual({ connection: 'close', body: 'now' });
    expect(await get('/now')).toEqual({ connection: 'close', body: 'now' });
  });

  test('a response whose headers are already out is left alone', async () => {
    const answer = get('/begun');
    await waitFor(() => held.length === 1, { what: 'the begun response' });
    expect(() => tracker.drain()).not.toThrow();
    held[0]?.end('rest');
    expect(await answer).toEqual({ connection: 'keep-alive', body: 'rest' });
  });
});
