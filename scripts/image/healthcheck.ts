/**
 * The image's HEALTHCHECK (local `docker run` only; session pools probe /health themselves):
 * exit 0 when the adapter's /health answers 2xx within the timeout, else 1.
 */
const port = process.env.PORT || '2000';

fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4_000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
