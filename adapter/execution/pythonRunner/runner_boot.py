# The Python runner's entry. program.ts sends this file first in the job's entry file, then
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
