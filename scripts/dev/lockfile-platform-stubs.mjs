#!/usr/bin/env node
// Adds lockfile entries for optional, platform-specific packages that the registry this
// project installs from does not carry (it serves only Linux builds of @unrs/resolver-binding-*,
// which jest 30 pulls in). Without an entry per optional dependency, `npm ci` refuses the
// lockfile as "out of sync". The stubs carry os/cpu so npm skips them on every platform they
// do not match, and never fetches them. Run after `npm install` changes package-lock.json.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;

const platformOf = (name) => {
  const tail = name.split('/').pop();
  const osList = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32'];
  const os = osList.find((candidate) => tail.includes(`-${candidate}-`));
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 'riscv64', 's390x'].find(
    (candidate) => tail.includes(`-${candidate}`),
  );
  const libc = tail.endsWith('-musl') || tail.endsWith('-musleabihf') ? 'musl' : 'glibc';
  return { os, cpu, libc: os === 'linux' ? libc : undefined };
};

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [dependency, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const installPath = `${path ? `${path}/` : ''}node_modules/${dependency}`;
    const hoisted = `node_modules/${dependency}`;
    if (packages[installPath] || packages[hoisted]) continue;
    const { os, cpu, libc } = platformOf(dependency);
    if (!os || !cpu) {
      throw new Error(`cannot tell the platform of ${dependency}; add its entry by hand`);
    }
    packages[hoisted] = {
      version,
      cpu: [cpu],
      ...(entry.dev ? { dev: true } : {}),
      ...(libc ? { libc: [libc] } : {}),
      optional: true,
      os: [os],
    };
    added += 1;
  }
}

lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
execFileSync('git', ['diff', '--stat', '--', 'package-lock.json'], { stdio: 'inherit' });
console.log(`added ${added} platform stub(s) to package-lock.json`);
