// Generated from runner*.py by scripts/dev/runner-module.mjs: edit those, then run it.
// test/unit/pythonRunnerSource.test.ts fails when this file and the .py files differ.

export const RUNNER_BOOT_PY = `# The Python runner's entry. program.ts sends this file first in the job's entry file, then
# runner.py, runner_rare.py and runner_uploads.py as strings, then the two lines that load the
# runner (_piston_session_boot) and call _piston_session_main. The same rules as runner.py.


def _piston_session_boot(cache_prefix):
    # Compiling runner.py costs a run more than running it does. Where the adapter gives a
    # cache (jobs on its file system: a name in its unlistable results folder), the first run
    # of each Python keeps the compiled code there and later runs load it: marshal is built in
    # and already loaded, as for any .pyc. A file that is not this Python's code fails to load
    # and is compiled afresh.
    import marshal
    import os
    import sys

    path = None
    if cache_prefix is not None:
        path = '%s%s-%x' % (cache_prefix, sys.implementation.cache_tag, sys.hexversion)
        try:
            with open(path, 'rb') as cached:
                return marshal.loads(cached.read())
        except Exception:
            pass
    code = compile(_PISTON_SESSION_RUNNER, __file__, 'exec')
    if path is not None:
        # Written aside and renamed into place: a reader sees all of it or nothing.
        temporary = '%s.%s' % (path, os.urandom(8).hex())
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                data = marshal.dumps(code)
                while data:
                    data = data[os.write(fd, data):]
            finally:
                os.close(fd)
            os.rename(temporary, path)
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return code
`;

export const RUNNER_PY = `# The Python result runner. program.ts sends this file as the job's entry file, followed by
# runner_rare.py and runner_uploads.py as strings and one line that calls _piston_session_main
# with the execution's code and settings: this file itself only defines functions. See
# README.md ("How Python results work") for what it is for.
#
# Rules it keeps:
# - Python 3.5 and later: no f-strings, no annotations.
# - Nothing is imported at start that \`python3 -c pass\` does not import already (os, io, sys,
#   builtins), bar the built-in _ast: every run pays for each import, and the common run is
#   short. What only errors or unusual values need is imported when they happen.
#   test/unit/pythonRunnerImports.test.ts checks this with \`python3 -X importtime\`.
# - stdin is the program's, untouched: the runner reads nothing from it.
# - Every name starts with _piston_session and lives in this module, never in the user's
#   __main__; tracebacks hide every frame of this file.


def _piston_session_main(source, filename, nonce, result_path, files_dir, result_max):
    import os
    import sys

    # This file holds the nonce and the result's path, which must stay the runner's: it goes
    # before user code starts, so code can neither read them from it nor see it in a listing.
    try:
        os.unlink(__file__)
    except OSError:
        pass
    runner_file = _piston_session_main.__code__.co_filename
    notes = []
    # The real stdout, kept aside: code may replace, detach or close sys.stdout (or fd 1).
    try:
        out_fd = os.dup(1)
    except OSError:
        out_fd = None
    job_dir = os.getcwd()
    work_dir = job_dir
    if files_dir is not None and files_dir != job_dir:
        try:
            os.chdir(files_dir)
            work_dir = files_dir
            # Modules uploaded to the session import as they did beside the code.
            if sys.path and os.path.abspath(sys.path[0] or '.') == job_dir:
                sys.path[0] = files_dir
        except OSError as error:
            notes.append('the session folder %s could not be entered (%s): the code ran in '
                         'the job folder' % (files_dir, error.strerror or error))
    if work_dir != '/mnt/data':
        _piston_session_load(_PISTON_SESSION_UPLOADS, '_piston_session_map_uploads')(
            work_dir)

    sys.argv[0] = filename
    main = type(sys)('__main__')
    main.__dict__['__builtins__'] = __builtins__
    main.__file__ = os.path.join(work_dir, filename)
    # linecache, traceback, inspect and warnings find the code's lines through its loader,
    # without the runner importing linecache up front.
    main.__loader__ = _PistonSessionSource(source)
    sys.modules['__main__'] = main

    import _ast  # built in: the parser's node classes, without the ast module's import cost

    try:
        tree = compile(source, filename, 'exec', 0x400, True)  # 0x400: ast.PyCF_ONLY_AST
    except (SyntaxError, ValueError) as error:
        _piston_session_load(_PISTON_SESSION_RARE, '_piston_session_syntax_error')(
            error, source, False)
    last = None
    if tree.body and isinstance(tree.body[-1], _ast.Expr):
        last = _ast.Expression(tree.body.pop().value)
    try:
        body = compile(tree, filename, 'exec', 0, True)
        final = compile(last, filename, 'eval', 0, True) if last is not None else None
    except (SyntaxError, ValueError) as error:
        # Found by the compiler, not the parser: its line comes from the source, not from
        # whatever file may be called main.py in the working folder.
        _piston_session_load(_PISTON_SESSION_RARE, '_piston_session_syntax_error')(
            error, source, True)

    try:
        exec(body, main.__dict__)
        value = eval(final, main.__dict__) if final is not None else None
    except SystemExit:
        raise
    except BaseException as error:
        _piston_session_load(_PISTON_SESSION_RARE, '_piston_session_uncaught')(
            error, source, filename, runner_file)

    payload = _piston_session_encode(value, result_max, notes)
    if payload is None:
        return
    data = payload.encode('utf-8', 'replace')
    if result_path is not None:
        try:
            # O_EXCL: never write through a file or link someone else put there.
            fd = os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _piston_session_write_all(fd, data)
            finally:
                os.close(fd)
            return
        except OSError as error:
            # Said, not swallowed: the result comes on stdout with a note for the operator.
            notes.append('the result file could not be written (%s): it came on stdout'
                         % (error.strerror or error))
            data = _piston_session_encode(value, result_max, notes).encode('utf-8', 'replace')
    if out_fd is None:
        return
    _piston_session_flush(sys)
    _piston_session_write_all(out_fd, b'\\x1e' + nonce.encode('ascii') + b':' + data + b'\\n')


class _PistonSessionSource(object):
    """The __main__ module's loader: it knows the code's source, which has no file."""

    def __init__(self, source):
        self._source = source

    def get_source(self, name):
        return self._source


def _piston_session_write_all(fd, data):
    import os
    while data:
        data = data[os.write(fd, data):]


def _piston_session_flush(sys):
    for stream in (sys.stdout, sys.__stdout__):
        try:
            stream.flush()
        except Exception:
            pass


def _piston_session_encode(value, result_max, notes):
    # The result record: {"value": <JSON>, "note": "..."}, either key absent when it has none.
    # Plain ints, floats, bools and strings, the common values, need no json module.
    text = None
    if value is not None:
        kind = type(value)
        if kind is bool:
            text = 'true' if value else 'false'
        elif kind is int:
            try:
                text = repr(value)
            except ValueError:  # more digits than int_max_str_digits allows
                text = None
        elif kind is float and value - value == 0.0:  # finite: JSON has no nan or inf
            text = repr(value)
        elif (kind is str and len(value) <= result_max and value.isprintable()
              and '"' not in value and '\\\\' not in value):
            text = '"' + value + '"'
        if text is None or len(text) > result_max:
            text = _piston_session_load(_PISTON_SESSION_RARE, '_piston_session_encode_other')(
                value, result_max, notes)
    if text is None and not notes:
        return None
    parts = []
    if text is not None:
        parts.append('"value": ' + text)
    if notes:
        import json
        parts.append('"note": ' + json.dumps('; '.join(notes)))
    return '{' + ', '.join(parts) + '}'


def _piston_session_load(source, name):
    # Code that only some runs need comes as a string (runner_rare.py: errors and unusual
    # values; runner_uploads.py: /mnt/data paths elsewhere) and is compiled when first needed:
    # compiling costs every run, used or not. It runs in this namespace, with these names.
    namespace = globals()
    if name not in namespace:
        exec(compile(source, _piston_session_main.__code__.co_filename, 'exec'), namespace)
    return namespace[name]
`;

export const RUNNER_RARE_PY = `# The Python runner's rare paths: syntax errors, uncaught exceptions, values beyond the plain
# ones. runner.py carries this file as a string and compiles it only when one of them happens
# (see _piston_session_load there); it runs in runner.py's namespace, so names from there
# (_piston_session_flush) are at hand. The same rules as runner.py.


def _piston_session_syntax_error(error, source, from_compiler):
    import sys
    import traceback
    lineno = getattr(error, 'lineno', None)
    if isinstance(error, SyntaxError) and lineno and (from_compiler or error.text is None):
        lines = source.split('\\n')
        if 0 < lineno <= len(lines):
            error.text = lines[lineno - 1] + '\\n'
    sys.stderr.write(''.join(traceback.format_exception_only(type(error), error)))
    sys.stderr.flush()
    sys.exit(1)


def _piston_session_uncaught(error, source, filename, runner_file):
    import linecache
    import sys
    import traceback
    # Tracebacks read lines from linecache: show the user's source, not a missing file.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    report = traceback.TracebackException(type(error), error, error.__traceback__)
    _piston_session_hide_frames(report, runner_file, traceback, set())
    _piston_session_flush(sys)
    sys.stderr.write(''.join(report.format()))
    sys.stderr.flush()
    sys.exit(1)


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


def _piston_session_encode_other(value, result_max, notes):
    import json
    try:
        png = getattr(value, '_repr_png_', None)
        if callable(png) and not isinstance(value, type):
            data = png()
            if isinstance(data, bytes):
                if (len(data) + 2) // 3 * 4 <= result_max:
                    import base64
                    return json.dumps({'type': 'image', 'format': 'png',
                                       'base64_data': base64.b64encode(data).decode('ascii')})
                notes.append('the PNG image (%d bytes) is over the result limit of %d '
                             'characters: its repr was sent instead' % (len(data), result_max))
    except Exception:
        pass
    try:
        text = json.dumps(value, allow_nan=False)
        if len(text) <= result_max:
            return text
    except Exception:
        pass
    try:
        text = repr(value)
    except Exception as error:
        text = '<repr failed: %s>' % type(error).__name__
    if len(text) > result_max:
        notes.append('the result was cut to %d of its %d characters' % (result_max, len(text)))
        text = text[:result_max] + '...'
    return json.dumps(text)
`;

export const RUNNER_UPLOADS_PY = `# The Python runner's /mnt/data mapping, for code that works anywhere but in /mnt/data itself.
# runner.py carries this file as a string and compiles it only then (see _piston_session_load
# there). The same rules as runner.py.


def _piston_session_map_uploads(folder):
    # Azure's interpreter keeps uploads in /mnt/data (AutoGen even chdirs there). Here they
    # sit in another folder, so those paths are pointed at it.
    import builtins
    import io
    import os
    uploads = '/mnt/data'
    fspath = getattr(os, 'fspath', None)  # Python 3.6+

    def to_folder(path):
        if fspath is not None:
            try:
                path = fspath(path)
            except TypeError:
                return path
        if isinstance(path, str) and (path == uploads or path.startswith(uploads + '/')):
            return folder + path[len(uploads):]
        return path

    def mapped(function):
        def call(*args, **kwargs):
            if not args:
                return function(*args, **kwargs)
            given, target = args[0], to_folder(args[0])
            try:
                return function(target, *args[1:], **kwargs)
            except OSError as error:
                if target is not given and error.filename == target:
                    error.filename = given  # name the path the code used
                raise
        for name in ('__module__', '__name__', '__qualname__', '__doc__'):
            try:
                setattr(call, name, getattr(function, name))
            except (AttributeError, TypeError):
                pass
        call.__wrapped__ = function
        return call

    # os.path.exists/isfile/isdir/getsize, pathlib, glob and os.makedirs go through these.
    names = ('open', 'chdir', 'listdir', 'scandir', 'stat', 'lstat', 'mkdir', 'remove', 'unlink',
             'rmdir')
    capability_sets = [getattr(os, name) for name in
                       ('supports_fd', 'supports_dir_fd', 'supports_follow_symlinks',
                        'supports_effective_ids') if hasattr(os, name)]
    for name in names:
        original = getattr(os, name, None)
        if original is None:
            continue
        wrapper = mapped(original)
        setattr(os, name, wrapper)
        # shutil.rmtree and friends test these sets by identity before using dir_fd.
        for capabilities in capability_sets:
            if original in capabilities:
                capabilities.add(wrapper)
    builtins.open = io.open = mapped(io.open)
`;
