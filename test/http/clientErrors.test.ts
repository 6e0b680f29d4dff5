import { Duplex } from 'node:stream';
import { answerClientError } from '../../adapter/http/clientErrors';
import { SERVED_BY } from '../../adapter/meta';

/**
 * A stand-in for the socket node:http hands to 'clientError': it records what is written.
 * A real socket would need a parser error on a real connection; the unit only writes to
 * and destroys the stream it is given.
 */
class FakeSocket extends Duplex {
  readonly chunks: Buffer[] = [];
  _httpMessage?: { headersSent?: boolean };

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const clientError = (code?: string) =>
  Object.assign(new Error(`client error ${code}`), code === undefined ? {} : { code });

/** Splits what went out into status line, headers and the JSON body. */
function reply(socket: FakeSocket) {
  const [head = '', body = ''] = socket.text.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return {
    statusLine,
    headers,
    body,
    json: JSON.parse(body) as { error: Record<string, unknown> },
  };
}

beforeEach(() => {
  // Streams need their real nextTick; only the socket's destroy timer is faked.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('answerClientError', () => {
  test.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'Request Timeout', 'request_timeout'],
    ['HPE_HEADER_OVERFLOW', 431, 'Request Header Fields Too Large', 'headers_too_large'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'Payload Too Large', 'chunk_extensions_too_large'],
    ['HPE_INVALID_METHOD', 400, 'Bad Request', 'malformed_request'],
  ])('%s is answered %d as JSON and closes', (code, status, text, errorCode) => {
    const socket = new FakeSocket();
    answerClientError(clientError(code), socket);
    const answer = reply(socket);
    expect(answer.statusLine).toBe(`HTTP/1.1 ${status} ${text}`);
    expect(answer.headers).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(answer.body)),
      'x-served-by': SERVED_BY,
      'x-ms-error-code': errorCode,
      connection: 'close',
    });
    expect(answer.json.error).toMatchObject({ code: errorCode, source: 'adapter' });
    expect(typeof answer.json.error['message']).toBe('string');
    expect(socket.writableEnded).toBe(true);
  });

  test('a parser error names its code; one without a code still gets an answer', () => {
    const named = new FakeSocket();
    answerClientError(clientError('HPE_INVALID_HEADER_TOKEN'), named);
    expect(reply(named).json.error['message']).toContain('HPE_INVALID_HEADER_TOKEN');

    const unnamed = new FakeSocket();
    answerClientError(clientError(), unnamed);
    expect(reply(unnamed).statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(reply(unnamed).json.error['message']).toContain('parse error');
  });

  test.each(['ECONNRESET', 'EPIPE'])('%s: the client is gone, nothing is written', (code) => {
    const socket = new FakeSocket();
    answerClientError(clientError(code), socket);
    expect(socket.chunks).toHaveLength(0);
    expect(socket.destroyed).toBe(true);
  });

  test('a response already begun on the connection is not corrupted: destroyed instead', () => {
    const socket = new FakeSocket();
    socket._httpMessage = { headersSent: true };
    answerClientError(clientError('ERR_HTTP_REQUEST_TIMEOUT'), socket);
    expect(socket.chunks).toHaveLength(0);
    expect(socket.destroyed).toBe(true);
  });

  test('a response bound but not begun still lets the answer out', () => {
    const socket = new FakeSocket();
    socket._httpMessage = { headersSent: false };
    answerClientError(clientError('ERR_HTTP_REQUEST_TIMEOUT'), socket);
    expect(reply(socket).statusLine).toBe('HTTP/1.1 408 Request Timeout');
  });

  test('a socket no longer writable is destroyed without a write', () => {
    const socket = new FakeSocket();
    socket.end();
    answerClientError(clientError('HPE_INVALID_METHOD'), socket);
    expect(socket.chunks).toHaveLength(0);
    expect(socket.destroyed).toBe(true);
  });

  test('a client that never closes its side is cut off a second after the answer', () => {
    const socket = new FakeSocket();
    answerClientError(clientError('HPE_HEADER_OVERFLOW'), socket);
    expect(socket.destroyed).toBe(false);
    jest.advanceTimersByTime(999);
    expect(socket.destroyed).toBe(false);
    jest.advanceTimersByTime(1);
    expect(socket.destroyed).toBe(true);
  });

  test('a socket that closes first leaves no timer behind', async () => {
    const socket = new FakeSocket();
    answerClientError(clientError('HPE_HEADER_OVERFLOW'), socket);
    expect(jest.getTimerCount()).toBe(1);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.destroy();
    await closed;
    expect(jest.getTimerCount()).toBe(0);
  });
});
