import net from 'node:net';

/** A request as bytes on the wire, so it can be as wrong as HTTP allows (or not). */
export interface RawRequest {
  /** Written in order; a gap of `gapMs` between parts makes a slow client. */
  parts: (string | Buffer)[];
  gapMs?: number;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `request` on a fresh connection and reads until the server closes it (every request
 * here says `connection: close`, and every error answer closes too). Resolves with the parsed
 * answer, or rejects when there is none within `timeoutMs`.
 */
export function rawExchange(
  port: number,
  request: RawRequest,
  timeoutMs: number,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    let pacer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(pacer);
      socket.destroy();
      outcome();
    };
    const deadline = setTimeout(
      () => finish(() => reject(new Error(`no complete answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answer = parseAnswer(Buffer.concat(chunks));
      if (answer !== null) finish(() => resolve(answer));
    });
    socket.on('close', () => {
      const answer = parseAnswer(Buffer.concat(chunks));
      finish(() =>
        answer === null
          ? reject(
              new Error(`connection closed without a complete answer (${chunks.length} chunks)`),
            )
          : resolve(answer),
      );
    });
    // The server may close while we still write (it answered already): the answer decides.
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      let index = 0;
      const writeNext = () => {
        if (settled || socket.destroyed) return;
        const part = request.parts[index];
        index += 1;
        if (part === undefined) return;
        socket.write(part);
        if (request.gapMs === undefined) writeNext();
        else pacer = setTimeout(writeNext, request.gapMs);
      };
      writeNext();
    });
  });
}

/** A complete HTTP/1.1 answer (content-length framed), or null while more is needed. */
function parseAnswer(bytes: Buffer): RawAnswer | null {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const [statusLine = '', ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (match === null) throw new Error(`not an HTTP answer: ${statusLine.slice(0, 100)}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const body = bytes.subarray(end + 4);
  // Every answer the adapter gives to these requests has a content-length.
  if (!Number.isFinite(length) || body.length < length) return null;
  return { status: Number(match[1]), headers, body: body.subarray(0, length).toString('utf8') };
}
