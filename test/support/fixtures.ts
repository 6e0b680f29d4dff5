import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Recorded Piston traffic, read-only, copied into the project from the recorded set (test/fixtures/piston/README.md). */
export const FIXTURES_DIR = path.resolve(__dirname, '../fixtures/piston');

export interface PistonFixture {
  name: string;
  request: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body: unknown;
    body_is_raw?: boolean;
  };
  /** null: the server sent no response. */
  status: number | null;
  headers: { 'content-type'?: string };
  body: unknown;
  _meta: Record<string, unknown>;
}

export function loadFixture(name: string): PistonFixture {
  const file = path.join(FIXTURES_DIR, name.endsWith('.json') ? name : `${name}.json`);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Omit<PistonFixture, 'name'>;
  return { name: path.basename(file, '.json'), ...parsed };
}

export function loadAllFixtures(): PistonFixture[] {
  return readdirSync(FIXTURES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => loadFixture(file));
}
