// Fails the way Piston's isolate entrypoint fails in a container without pure cgroup v2.
process.stdout.write('Piston v3.1.1 starting\n');
process.stderr.write('mkdir: cannot create directory isolate/: Read-only file system\n');
process.stderr.write('Combined cgroup v1+v2 mode is not supported\n');
process.exit(1);
