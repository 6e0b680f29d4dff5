import type http from 'node:http';

/**
 * The responses under way on a server, so a drain can end keep-alive: once it starts, every
 * response not yet begun (and every request still arriving on a kept-alive connection) goes
 * out with `connection: close`. Without it a busy keep-alive client keeps sending on its
 * connection through the whole grace period, and is cut off mid-request when it ends.
 */
export class ResponseTracker {
  private readonly open = new Set<http.ServerResponse>();
  private draining = false;

  constructor(server: http.Server) {
    // Ahead of the app's handler, which may answer synchronously.
    server.prependListener('request', (_req, res) => this.track(res));
  }

  /** From now on, each connection closes after its current response. */
  drain(): void {
    this.draining = true;
    for (const res of this.open) closeAfter(res);
  }

  private track(res: http.ServerResponse): void {
    if (this.draining) {
      closeAfter(res);
      return;
    }
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
  }
}

function closeAfter(res: http.ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}
