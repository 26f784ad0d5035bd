# Runs argv as a child of a subreaper (prctl PR_SET_CHILD_SUBREAPER), as containerd's shim does, and prints
# as JSON: our pid, the command's status and output, and for the container named by --ppid-of <state.json>
# the ppid of its init once the command has exited (ours when the init was the command's descendant).
import ctypes, json, subprocess, sys
PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit('prctl: errno %d' % ctypes.get_errno())
state = sys.argv[2] if sys.argv[1] == '--ppid-of' else None
argv = sys.argv[3:] if state else sys.argv[1:]
r = subprocess.run(argv, capture_output=True, text=True)
out = {'pid': __import__('os').getpid(), 'status': r.returncode, 'stdout': r.stdout, 'stderr': r.stderr}
if state:
    try:
        pid = json.load(open(state))['pid']
        out['ppid'] = int(open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[1])
    except (OSError, ValueError, KeyError) as e:
        out['ppid'] = str(e)
print(json.dumps(out))
