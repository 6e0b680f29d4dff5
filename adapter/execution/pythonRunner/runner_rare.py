# The Python runner's rare paths: syntax errors, uncaught exceptions, values beyond the plain
# ones. runner.py loads this part only when one of them happens (see _piston_session_load
# there); it runs in runner.py's namespace, so names from there (_piston_session_flush) are at
# hand. The same rules as runner.py.


def _piston_session_syntax_error(error, source, from_compiler):
    import sys
    import traceback
    lineno = getattr(error, 'lineno', None)
    if isinstance(error, SyntaxError) and lineno and (from_compiler or error.text is None):
        lines = source.split('\n')
        if 0 < lineno <= len(lines):
            error.text = lines[lineno - 1] + '\n'
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


def _piston_session_exact_in_json(value, depth):
    # Ints past 2**53 come back changed from JSON readers that use doubles (JavaScript, .NET):
    # a value holding one is sent as its repr instead. Deep or odd values: json decides.
    if depth > 32:
        return True
    kind = type(value)
    if kind is int:
        return -9007199254740991 <= value <= 9007199254740991
    if kind is list or kind is tuple:
        return all(_piston_session_exact_in_json(item, depth + 1) for item in value)
    if kind is dict:
        return all(_piston_session_exact_in_json(item, depth + 1) for item in value.values())
    return True


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
        if not _piston_session_exact_in_json(value, 0):
            raise ValueError('a number JSON readers would change')
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
