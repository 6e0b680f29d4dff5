import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PistonExecuteRequest } from '../../adapter/piston/types';
import { loadFixture } from './fixtures';

/**
 * An in-process stand-in for Piston that answers with recorded fixture bodies. It stands in
 * only for the adapter's HTTP tests, where the point is the translation; the local engine and
 * the supervisor are tested as real processes elsewhere.
 */
export interface FakeReply {
  status: number;
  body: unknown;
  /** Send the body as is (e.g. an empty 500), not as JSON. */
  raw?: boolean;
  /** Hold the reply until this promise settles (to test slow engines and aborts). */
  delay?: Promise<unknown>;
}

/** A Python run that printed "out" and exited 0, in Piston v3's reply shape. */
export const PYTHON_SUCCESS: FakeReply = {
  status: 200,
  body: {
    language: 'python',
    version: '3.12.0',
    run: { stdout: 'out\n', stderr: '', output: 'out\n', code: 0, signal: null },
  },
};

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface FakeEngine {
  url: string;
  received: ReceivedRequest[];
  runtimes: unknown;
  /** Replies to POST /api/v2/execute, used in order; the last one repeats. */
  executeReplies: FakeReply[];
  /** Requests whose connection closed before a reply was sent. */
  abandoned: number;
  /** The bodies of the execute requests received, in order: the jobs the adapter sent. */
  sentExecutions(): PistonExecuteRequest[];
  /** Drop every open connection without answering, as a killed engine does. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startFakeEngine(): Promise<FakeEngine> {
  const sockets = new Set<import('node:net').Socket>();
  const engine: Omit<FakeEngine, 'url' | 'close' | 'dropConnections' | 'sentExecutions'> = {
    received: [],
    runtimes: loadFixture('runtimes').body,
    executeReplies: [{ status: 200, body: loadFixture('python_hello').body }],
    abandoned: 0,
  };
  let executeIndex = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          // keep the raw text: the test asserts on what arrived
        }
        const path = req.url ?? '';
        const pathname = path.split('?')[0];
        engine.received.push({ method: req.method ?? '', path, headers: req.headers, body });
        let reply: FakeReply;
        if (req.method === 'GET' && pathname === '/api/v2/runtimes') {
          reply = { status: 200, body: engine.runtimes };
        } else if (req.method === 'POST' && pathname === '/api/v2/execute') {
          const replies = engine.executeReplies;
          reply = replies[Math.min(executeIndex, replies.length - 1)] ?? { status: 500, body: '' };
          executeIndex += 1;
        } else if (pathname === '/') {
          reply = { status: 200, body: { message: 'Piston v3.1.1' } };
        } else {
          reply = { status: 404, body: { message: 'Not Found' } };
        }
        if (reply.delay) await reply.delay.catch(() => undefined);
        if (res.destroyed || req.socket.destroyed) {
          engine.abandoned += 1;
          return;
        }
        const payload = reply.raw ? String(reply.body) : JSON.stringify(reply.body);
        res.writeHead(reply.status, {
          'content-type': reply.raw ? 'text/plain' : 'application/json; charset=utf-8',
          // As express sends it: Piston's empty 500s come with content-length 0.
          'content-length': Buffer.byteLength(payload),
        });
        res.end(payload);
      })();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return Object.assign(engine, {
    url: `http://127.0.0.1:${port}`,
    sentExecutions: () =>
      engine.received
        .filter((r) => r.path === '/api/v2/execute')
        .map((r) => r.body as PistonExecuteRequest),
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
