import net from 'node:net';

/**
 * A loopback port that was free a moment ago, for ENGINE_PORT=0. The engine binds it itself,
 * so another process could take it in between; on a session container nothing else is
 * starting, and a bind failure would show up as an engine exit with its stderr anyway.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error(`could not read the port picked on ${host}`);
  }
  return address.port;
}
