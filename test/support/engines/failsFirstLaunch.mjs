// Exits at its first launch, as an engine does that loses its port to another process between
// the supervisor picking the port and the engine binding it; from the second launch on it is
// the fakePiston stand-in. FAKE_ENGINE_MARKER names the file that remembers the first launch.
import fs from 'node:fs';

const marker = process.env.FAKE_ENGINE_MARKER;
if (marker && !fs.existsSync(marker)) {
  fs.writeFileSync(marker, '');
  process.stderr.write('Error: listen EADDRINUSE: address already in use\n');
  process.exit(1);
}
await import('./fakePiston.mjs');
