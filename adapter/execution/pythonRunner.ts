import { randomBytes } from 'node:crypto';
import semver from 'semver';
import type { PistonRuntime } from '../piston/types';

/**
 * Azure's interpreter answers `print('hi')\n1 + 1` with stdout "hi\n" and result 2, like a
 * Jupyter cell. Piston only runs files, so Python code goes inside a small runner that
 * executes it as `__main__`, evaluates a final expression, and reports its value on stdout
 * behind a marker carrying a per-execution nonce. The nonce arrives as the first line of stdin,
 * which the runner consumes before user code starts: code that prints cannot know it, so it
 * cannot forge a result.
 */

/** The runner's file name: hidden names are refused for uploads, so it never clashes. */
export const RUNNER_FILE_NAME = '.session_runner.py';
/** What tracebacks and sys.argv[0] call the user's code. */
export const USER_CODE_NAME = 'main.py';
/**
 * Results longer than this come back as a truncated repr instead of JSON. The result shares
 * stdout's output limit with the program, so it takes at most an eighth of it.
 */
const RESULT_MAX_CHARS = 64 * 1024;

function resultLimit(outputMaxBytes: number): number {
  return Math.max(256, Math.min(RESULT_MAX_CHARS, Math.floor(outputMaxBytes / 8)));
}

export interface PythonRunnerProgram {
  /** The file to send first (the engine's entry point). */
  file: { name: string; content: string };
  /** What to send as stdin: the nonce line, then the caller's stdin. */
  stdin: string;
  nonce: string;
}

/** Python 3 only: the runner uses Python 3 syntax and library. */
export function runnerApplies(runtime: PistonRuntime): boolean {
  if (runtime.language !== 'python') return false;
  const version = semver.coerce(runtime.version);
  return version !== null && version.major >= 3;
}

export interface PythonRunnerOptions {
  /**
   * The session folder, when the engine's jobs see it in place: the code runs there (bare
   * names such as `open('data.csv')` reach it) and /mnt/data paths lead there.
   */
  filesDir?: string | undefined;
}

export function wrapPythonCode(
  code: string,
  stdin: string | undefined,
  outputMaxBytes: number,
  options: PythonRunnerOptions = {},
): PythonRunnerProgram {
  const nonce = randomBytes(16).toString('hex');
  const source = runnerSource(code, resultLimit(outputMaxBytes), options.filesDir);
  return {
    file: { name: RUNNER_FILE_NAME, content: source },
    stdin: `${nonce}\n${stdin ?? ''}`,
    nonce,
  };
}

export interface ExtractedResult {
  /** stdout without the result marker. */
  stdout: string;
  /** The last expression's value: JSON, a repr string, an image object, or "" for none. */
  result: unknown;
}

/**
 * Takes the runner's marker out of stdout. No marker (the code raised, exited, or was killed)
 * means no result. Text after the marker (a thread still printing) is kept.
 */
export function extractResult(stdout: string, nonce: string): ExtractedResult {
  const head = markerHead(nonce);
  const start = stdout.lastIndexOf(head);
  if (start === -1) return { stdout, result: '' };
  const end = stdout.indexOf('\n', start);
  // Cut short by the output limit: the program had finished, but its result is lost. The
  // partial marker is ours, not the program's output.
  if (end === -1) return { stdout: stdout.slice(0, start), result: '' };
  const payload = stdout.slice(start + head.length, end);
  let value: unknown;
  try {
    value = (JSON.parse(payload) as { value?: unknown }).value;
  } catch {
    return { stdout, result: '' };
  }
  return {
    stdout: stdout.slice(0, start) + stdout.slice(end + 1),
    // None, like a statement, has no result: Azure answers "" for both.
    result: value === undefined || value === null ? '' : value,
  };
}

/** Starts with an ASCII record separator, which programs seldom print by accident. */
const MARKER_PREFIX = '\u001episton-session-result:';

function markerHead(nonce: string): string {
  return `${MARKER_PREFIX}${nonce}:`;
}

/**
 * Written for Python 3.5 and later (no f-strings). Every name it defines starts with an
 * underscore and lives in the runner's own module, never in the user's `__main__`.
 */
function runnerSource(code: string, resultMaxChars: number, filesDir?: string): string {
  // A JSON string is a valid Python string literal; it keeps the code out of the syntax.
  // Python reads a leading byte-order mark in a file as nothing, and cannot encode a lone
  // surrogate: treat both as the engine would, were the code its file.
  const literal = JSON.stringify(code.replace(/^\uFEFF/, '').toWellFormed());
  return `import sys as _sys


def _piston_session_run(source, filename, marker, result_max, files_dir):
    import ast, json, linecache, os, traceback, types
    nonce = _sys.stdin.buffer.readline().strip().decode('ascii', 'replace')
    runner_file = __file__
    # The real stdout, kept aside: code may replace, detach or close sys.stdout.
    out_fd = os.dup(1)
    _sys.argv[0] = filename
    # Tracebacks read lines from linecache: show the user's source, not a missing file.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    if files_dir is not None:
        os.chdir(files_dir)
    _piston_session_map_uploads()
    main = types.ModuleType('__main__')
    main.__dict__['__builtins__'] = __builtins__
    main.__dict__['__file__'] = os.path.join(os.getcwd(), filename)
    _sys.modules['__main__'] = main
    try:
        # Compiled from text first: syntax errors then point into the source as Python's do.
        compile(source, filename, 'exec', 0, True)
        tree = compile(source, filename, 'exec', ast.PyCF_ONLY_AST, True)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        body = compile(tree, filename, 'exec', 0, True)
        final = compile(last, filename, 'eval', 0, True) if last is not None else None
    except (SyntaxError, ValueError) as error:
        if isinstance(error, SyntaxError) and error.text is None and error.lineno:
            error.text = linecache.getline(filename, error.lineno) or None
        _sys.stderr.write(''.join(traceback.format_exception_only(type(error), error)))
        _sys.stderr.flush()
        _sys.exit(1)
    try:
        exec(body, main.__dict__)
        value = eval(final, main.__dict__) if final is not None else None
    except SystemExit:
        raise
    except BaseException as error:
        report = traceback.TracebackException(type(error), error, error.__traceback__)
        _piston_session_hide_frames(report, runner_file, traceback, set())
        for stream in (_sys.stdout, _sys.__stdout__):
            try:
                stream.flush()
            except Exception:
                pass
        _sys.stderr.write(''.join(report.format()))
        _sys.stderr.flush()
        _sys.exit(1)
    payload = _piston_session_encode(value, json, result_max)
    for stream in (_sys.stdout, _sys.__stdout__):
        try:
            stream.flush()
        except Exception:
            pass
    data = (marker + nonce + ':' + payload + '\\n').encode('utf-8')
    while data:
        data = data[os.write(out_fd, data):]


def _piston_session_hide_frames(report, runner_file, traceback, seen):
    # Frames of the runner (its exec, its /mnt/data wrappers) wherever they stand, in chained
    # exceptions too: tracebacks show only the user's code.
    if report is None or id(report) in seen:
        return
    seen.add(id(report))
    report.stack = traceback.StackSummary.from_list(
        [frame for frame in report.stack if frame.filename != runner_file])
    _piston_session_hide_frames(report.__cause__, runner_file, traceback, seen)
    _piston_session_hide_frames(report.__context__, runner_file, traceback, seen)


def _piston_session_map_uploads():
    # Azure's interpreter keeps uploads in /mnt/data (AutoGen even chdirs there). Here they
    # sit in the working directory (the session folder, or the job's), so those paths are
    # pointed at it.
    import builtins, functools, io, os
    workdir = os.getcwd()
    uploads = '/mnt/data'

    def to_workdir(path):
        if hasattr(os, 'fspath'):  # Python 3.6+
            try:
                path = os.fspath(path)
            except TypeError:
                return path
        if isinstance(path, str) and (path == uploads or path.startswith(uploads + '/')):
            return workdir + path[len(uploads):]
        return path

    def mapped(function):
        @functools.wraps(function)
        def call(*args, **kwargs):
            if not args:
                return function(*args, **kwargs)
            given, target = args[0], to_workdir(args[0])
            try:
                return function(target, *args[1:], **kwargs)
            except OSError as error:
                if target is not given and error.filename == target:
                    error.filename = given  # name the path the code used
                raise
        return call

    builtins.open = io.open = mapped(io.open)
    os.chdir = mapped(os.chdir)
    os.listdir = mapped(os.listdir)


def _piston_session_encode(value, json, result_max):
    if value is None:
        return '{"value": null}'
    try:
        png = getattr(value, '_repr_png_', None)
        if callable(png) and not isinstance(value, type):
            data = png()
            if isinstance(data, bytes) and len(data) * 4 // 3 <= result_max:
                import base64
                image = {'type': 'image', 'format': 'png',
                         'base64_data': base64.b64encode(data).decode('ascii')}
                return json.dumps({'value': image})
    except Exception:
        pass
    try:
        text = json.dumps(value, allow_nan=False)
        if len(text) <= result_max:
            return '{"value": ' + text + '}'
    except Exception:
        pass
    try:
        text = repr(value)
    except Exception as error:
        text = '<repr failed: %s>' % type(error).__name__
    if len(text) > result_max:
        text = text[:result_max] + '...'
    return json.dumps({'value': text})


_piston_session_run(${literal}, ${JSON.stringify(USER_CODE_NAME)}, ${JSON.stringify(MARKER_PREFIX)}, ${resultMaxChars}, ${filesDir === undefined ? 'None' : JSON.stringify(filesDir)})
`;
}
