import type { Logger } from '../logging/logger';
import { httpExchange } from '../piston/httpExchange';
import { linkedSignal } from '../timing/deadline';

/**
 * Trivial programs, one per common Piston language, so the first real request does not pay
 * for a cold interpreter (and a compiled language's toolchain). Unknown languages get an empty
 * file: it still loads the runtime.
 */
const TRIVIAL_PROGRAMS: Record<string, string> = {
  python: 'print(1)',
  javascript: 'console.log(1)',
  typescript: 'console.log(1)',
  bash: 'echo 1',
  ruby: 'puts 1',
  c: 'int main(void) { return 0; }',
  'c++': 'int main() { return 0; }',
  go: 'package main\nfunc main() {}',
  rust: 'fn main() {}',
  java: 'public class Main { public static void main(String[] a) {} }',
};

export interface WarmUpOptions {
  url: string;
  languages: string[];
  logger: Logger;
  /** For all languages together. */
  timeoutMs: number;
  /** Aborted when the engine exits or the adapter stops. */
  signal: AbortSignal;
}

/**
 * One execution per configured language, one after another (they are quick, and a 2-core
 * container gains nothing from running them at once). A failure is logged and skipped: the
 * engine is answering, so it is ready; a language it lacks is the request's problem.
 */
export async function warmUp(options: WarmUpOptions): Promise<void> {
  const { url, languages, logger } = options;
  if (languages.length === 0) return;
  const warmUpStarted = performance.now();
  const linked = linkedSignal([options.signal], options.timeoutMs);
  const budget = linked.signal;
  try {
    await warmUpEach(url, languages, logger, budget);
  } finally {
    linked.dispose();
  }
  logger.info(
    { languages, durationMs: Math.round(performance.now() - warmUpStarted) },
    'engine warm-up done',
  );
}

async function warmUpEach(
  url: string,
  languages: string[],
  logger: Logger,
  budget: AbortSignal,
): Promise<void> {
  for (const language of languages) {
    if (budget.aborted) {
      logger.warn({ language }, 'engine warm-up skipped: out of time, or the engine is gone');
      continue;
    }
    const started = performance.now();
    try {
      const { status, text } = await httpExchange(new URL(url), false, {
        method: 'POST',
        path: '/api/v2/execute',
        body: JSON.stringify({
          language,
          version: '*',
          files: [{ content: TRIVIAL_PROGRAMS[language.toLowerCase()] ?? '' }],
        }),
        signal: budget,
      });
      const durationMs = Math.round(performance.now() - started);
      if (status >= 200 && status <= 299) logger.info({ language, durationMs }, 'engine warm-up');
      else {
        logger.warn(
          { language, durationMs, status, body: text.slice(0, 500) },
          'engine warm-up failed',
        );
      }
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      logger.warn({ language, durationMs, err: error }, 'engine warm-up failed');
    }
  }
}
