/**
 * Names the code file so tracebacks and compilers see a familiar name (main.py, not Piston's
 * default file0.code). Languages not listed keep the engine's default name.
 */
const EXTENSIONS = new Map<string, string>(
  Object.entries({
    python: 'py',
    javascript: 'js',
    typescript: 'ts',
    bash: 'sh',
    c: 'c',
    'c++': 'cpp',
    go: 'go',
    rust: 'rs',
    ruby: 'rb',
    php: 'php',
    java: 'java',
    kotlin: 'kt',
    csharp: 'cs',
    lua: 'lua',
    perl: 'pl',
    r: 'r',
    swift: 'swift',
  }),
);

export function entryFileName(language: string): string | undefined {
  // A Map, not an object: a runtime named "constructor" must not find Object's own keys.
  const extension = EXTENSIONS.get(language.toLowerCase());
  return extension === undefined ? undefined : `main.${extension}`;
}
