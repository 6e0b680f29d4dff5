# The adapter's warm-up job, after runner_boot.py in its entry file (program.ts,
# warmUpProgram): no user code runs in it, and no user's job carries this file. The same
# rules as runner.py.


def _piston_session_warm(out_prefix, parts):
    # The adapter's warm-up job, one per Python: no user code runs in it. Each part compiled
    # by this Python goes to a name only this job's source held; the adapter then copies it
    # into the cache as its own file, named with the tag this writes after the prefix.
    import marshal
    import os
    import sys
    for part in parts:
        code = compile(_piston_session_source(part), _PISTON_SESSION_CODE_NAME, 'exec')
        path = '%s%s-%s-%x' % (out_prefix, part, sys.implementation.cache_tag, sys.hexversion)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            data = marshal.dumps(code)
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
