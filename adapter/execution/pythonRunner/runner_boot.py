# The Python runner's entry. program.ts sends this file first in the job's entry file, then
# the settings below it names (_PISTON_SESSION_CACHE, _PISTON_SESSION_SOURCES,
# _PISTON_SESSION_SOURCE_FILES), then the two lines that load runner.py through
# _piston_session_code and call _piston_session_main. The same rules as runner.py.


def _piston_session_code(part):
    # The compiled code of one part of the runner: 'runner' (runner.py) on every run, 'rare'
    # (runner_rare.py) and 'uploads' (runner_uploads.py) only when a run needs them.
    # Compiling costs a run more than running does. Where the adapter gives a cache (jobs on
    # its file system: a name in its unlistable results folder), the first run of each Python
    # keeps each part's compiled code there and later runs load it: marshal is built in and
    # already loaded, as for any .pyc. A file that is not this Python's code fails to load and
    # is compiled afresh. The source comes in this file (a remote engine) or from the files
    # the adapter wrote beside the cache, which keeps this file, and every job, small.
    import marshal
    import os
    import sys

    path = None
    if _PISTON_SESSION_CACHE is not None:
        path = '%s%s-%s-%x' % (_PISTON_SESSION_CACHE, part, sys.implementation.cache_tag,
                               sys.hexversion)
        try:
            with open(path, 'rb') as cached:
                return marshal.loads(cached.read())
        except Exception:
            pass
    source = _PISTON_SESSION_SOURCES.get(part)
    if source is None:
        with open('%s%s.py' % (_PISTON_SESSION_SOURCE_FILES, part), 'rb') as written:
            source = written.read()
    code = compile(source, __file__, 'exec')
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
