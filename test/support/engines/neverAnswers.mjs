// Runs, says something on stderr, and never binds a port: a hung engine.
import { setInterval } from 'node:timers';

process.stderr.write('waiting for a lock that never comes\n');
setInterval(() => {}, 1000);
