# The Python result runner. runner_boot.py loads it (and, when needed, runner_rare.py and
# runner_uploads.py) into the job's entry file, whose last line calls _piston_session_main
# with the execution's code and settings: this file itself only defines functions. See
# README.md ("How Python results work") for what it is for.
#
# Rules it keeps:
# - Python 3.5 and later: no f-strings, no annotations.
# - Nothing is imported at start that `python3 -c pass` does not import already (os, io, sys,
#   builtins), bar the built-in _ast: every run pays for each import, and the common run is
#   short. What only errors or unusual values need is imported when they happen.
#   test/unit/pythonRunnerImports.test.ts checks this with `python3 -X importtime`.
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
        _piston_session_load('uploads', '_piston_session_map_uploads')(
            work_dir)

    sys.argv[0] = filename
    main = type(sys)('__main__')
    main.__dict__['__builtins__'] = __builtins__
    main.__file__ = os.path.join(work_dir, filename)
    # linecache, traceback, inspect and warnings find the code's lines through its loader,
    # without the runner importing linecache up front.
    main.__loader__ = _PistonSessionSource(source)
    sys.modules['__main__'] = main

    # Built in: the parser's node classes, without the ast module's import cost. Building
    # them is most of a millisecond, but any compile() does it (its PyAST_Check), and code
    # compiled otherwise (exec of a string) would be "<string>" in tracebacks and warnings.
    import _ast

    try:
        tree = compile(source, filename, 'exec', 0x400, True)  # 0x400: ast.PyCF_ONLY_AST
    except (SyntaxError, ValueError) as error:
        _piston_session_load('rare', '_piston_session_syntax_error')(
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
        _piston_session_load('rare', '_piston_session_syntax_error')(
            error, source, True)

    try:
        exec(body, main.__dict__)
        value = eval(final, main.__dict__) if final is not None else None
    except SystemExit:
        raise
    except BaseException as error:
        _piston_session_load('rare', '_piston_session_uncaught')(
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
    _piston_session_write_all(out_fd, b'\x1e' + nonce.encode('ascii') + b':' + data + b'\n')


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
        elif kind is int and -9007199254740991 <= value <= 9007199254740991:
            # Beyond 2**53 a JSON reader (JavaScript's, .NET's double) would change the number:
            # such an int goes the rare way, as its exact repr.
            text = repr(value)
        elif kind is float and value - value == 0.0:  # finite: JSON has no nan or inf
            text = repr(value)
        elif (kind is str and len(value) <= result_max and value.isprintable()
              and '"' not in value and '\\' not in value):
            text = '"' + value + '"'
        if text is None or len(text) > result_max:
            text = _piston_session_load('rare', '_piston_session_encode_other')(
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


def _piston_session_load(part, name):
    # Code that only some runs need is another part (runner_rare.py: errors and unusual
    # values; runner_uploads.py: /mnt/data paths elsewhere), loaded when first needed:
    # loading costs every run, used or not. It runs in this namespace, with these names.
    namespace = globals()
    if name not in namespace:
        exec(_piston_session_code(part), namespace)
    return namespace[name]
