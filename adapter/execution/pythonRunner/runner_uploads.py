# The Python runner's /mnt/data mapping, for code that works anywhere but in /mnt/data itself.
# runner.py loads this part only then (see _piston_session_load there). The same rules as
# runner.py.


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
