# The Python runner's entry. program.ts sends this file first in the job's entry file, then
# the settings below it names (_PISTON_SESSION_CACHE, _PISTON_SESSION_CACHE_OWNER,
# _PISTON_SESSION_SOURCES, _PISTON_SESSION_SOURCE_FILES), then the lines that load runner.py
# through _piston_session_code and call _piston_session_main. The adapter's own warm-up job
# carries runner_warm.py after this file instead. The same rules as runner.py.
#
# Every run parses this file before anything runs, so it holds only what a user's run needs:
# the warm-up's one function alone would cost each run about 0.1 ms of CPU.

# What every compiled part is called: the same whoever compiled it, so tracebacks can hide it.
_PISTON_SESSION_CODE_NAME = '<piston-session-runner>'


def _piston_session_code(part):
    # The compiled code of one part of the runner: 'runner' (runner.py) on every run, 'rare'
    # (runner_rare.py) and 'uploads' (runner_uploads.py) only when a run needs them.
    # Compiling costs a run more than running does. Where the adapter gives a cache (jobs on
    # its file system), its own folder, which no job can write, holds each part compiled by
    # each Python: its warm-up job compiled them (_piston_session_warm) and it copied them in.
    # Run only if it is what the adapter put there: a regular file of its own, with no other
    # name. Anything else, or a file that is not this Python's code, means compiling afresh.
    # The source comes in this file (a remote engine) or from the adapter's folder.
    import marshal
    import os
    import sys

    if _PISTON_SESSION_CACHE is not None:
        path = '%s%s-%s-%x' % (_PISTON_SESSION_CACHE, part, sys.implementation.cache_tag,
                               sys.hexversion)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0)
                         | getattr(os, 'O_NONBLOCK', 0))
        except OSError:
            fd = None
        if fd is not None:
            try:
                found = os.fstat(fd)
                if (found.st_uid == _PISTON_SESSION_CACHE_OWNER and found.st_nlink == 1
                        and found.st_mode & 0o170000 == 0o100000):  # a regular file
                    with open(fd, 'rb', closefd=False) as cached:
                        return marshal.loads(cached.read())
            except Exception:
                pass
            finally:
                os.close(fd)
    return compile(_piston_session_source(part), _PISTON_SESSION_CODE_NAME, 'exec')


def _piston_session_source(part):
    source = _PISTON_SESSION_SOURCES.get(part)
    if source is None:
        with open('%s%s.py' % (_PISTON_SESSION_SOURCE_FILES, part), 'rb') as written:
            source = written.read()
    return source
