// A tiny Piston stand-in for the supervisor's process tests. It binds PISTON_BIND_ADDRESS as
// Piston does and answers GET /api/v2/runtimes and POST /api/v2/execute with Piston-shaped
// replies. It runs no code: `print(<arithmetic>)` prints the value, `time.sleep(N)` waits N
// seconds before answering. Knobs, all optional:
//   FAKE_ENGINE_GATE_FILE      listen only once this file exists (checked every 20 ms), so a
//                              test decides when the engine starts answering
//   FAKE_ENGINE_HELPER=1       start a child that sleeps forever in the engine's process group,
//                              as Piston's job processes do, and print "helper pid N"
//   FAKE_ENGINE_IGNORE_SIGTERM=1  ignore SIGTERM (only SIGKILL stops it)
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { clearInterval, setInterval, setTimeout } from 'node:timers';

const [host, portText] = (process.env.PISTON_BIND_ADDRESS || '127.0.0.1:2001').split(':');
const port = Number(portText);
const log = (message) => process.stdout.write(`fake-piston: ${message}\n`);

// What Piston would read from its environment, for tests to check what the supervisor passed.
log(
  `limits run_timeout=${process.env.PISTON_RUN_TIMEOUT} ` +
    `output_max_size=${process.env.PISTON_OUTPUT_MAX_SIZE} ` +
    `max_concurrent_jobs=${process.env.PISTON_MAX_CONCURRENT_JOBS}`,
);
if (process.env.FAKE_ENGINE_IGNORE_SIGTERM === '1') {
  process.on('SIGTERM', () => log('ignoring SIGTERM'));
}
if (process.env.FAKE_ENGINE_HELPER === '1') {
  const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
  });
  log(`helper pid ${helper.pid}`);
}

const runtimes = [{ language: 'python', version: '3.11.2', aliases: ['py', 'py3', 'python3'] }];

function run(code) {
  const sleep = /time\.sleep\(\s*([\d.]+)\s*\)/.exec(code);
  const stdout = [];
  for (const match of code.matchAll(/print\(([\d+\-*/%(). ]+)\)/g)) {
    stdout.push(`${Function(`"use strict"; return (${match[1]});`)()}\n`);
  }
  return { delayMs: sleep ? Number(sleep[1]) * 1000 : 0, stdout: stdout.join('') };
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/api/v2/runtimes') return reply(res, 200, runtimes);
    if (req.method === 'POST' && req.url === '/api/v2/execute') {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(res, 400, { message: 'invalid JSON' });
      }
      const file = (body.files || [])[0] || {};
      const { delayMs, stdout } = run(String(file.content || ''));
      log(`execute delay=${delayMs}`);
      const stage = { stdout, stderr: '', output: stdout, code: 0, signal: null };
      setTimeout(
        () => reply(res, 200, { language: 'python', version: '3.11.2', run: stage }),
        delayMs,
      );
      return undefined;
    }
    return reply(res, 404, { message: `${req.method} ${req.url} not found` });
  });
});

function listen() {
  server.listen(port, host, () => log(`listening on ${host}:${port}`));
}

const gate = process.env.FAKE_ENGINE_GATE_FILE;
if (gate) {
  log(`waiting for ${gate}`);
  const timer = setInterval(() => {
    if (!fs.existsSync(gate)) return;
    clearInterval(timer);
    listen();
  }, 20);
} else {
  listen();
}
