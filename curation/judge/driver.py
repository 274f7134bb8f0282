#!/usr/bin/env python3
"""The judge's side inside the sandbox (system Python, stdlib only; python3-seccomp if present).

Process tree of one warm sandbox (bubblewrap, its own user/pid/net/ipc/uts namespaces)::

    supervisor   pid 1 of the sandbox (``bwrap --as-pid-1``), non-dumpable; reads jobs from
      |          the host on fd IN_FD, writes frames to the host on fd OUT_FD
      +- J       per solution, cloned into new mount, pid and ipc namespaces: pid 1 of its own
          |      pid namespace, fresh tmpfs /box /judge /tmp /dev/shm, non-dumpable, /proc
          |      mounted read-only with hidepid=2 (J is invisible to the solution); the only
          |      process of the solution that holds the host channel; never runs its code.
          +- C   per test: caps dropped, no_new_privs, seccomp, rlimits -> exec / run code
          +- Z   stdin-mode Python: a zygote locked down like C, one clone of it per test
          |      (CLONE_PARENT) -- or, with job["reuse"] (the default), Z itself becomes R
          |      and runs the tests one after another while each ends clean (``_runner``);
          |      a test that needs a fresh process gets a new Z
          +- L   functional mode: loads the solution's module once (locked down like C);
          +- T   per test a clone of L with CLONE_PARENT (so J waits for it and measures it)

Signals from inside a pid namespace cannot kill its init (J) nor reach the supervisor; the
solution's processes have no capabilities and a seccomp filter (no ptrace, pidfd_getfd,
process_vm_*, io_uring, bpf, keyctl, mount, namespaces), and no descriptor of the channel
(every descriptor above 2 is closed before its code runs).  J measures CPU time and peak
memory with wait4 on every process of the test (orphans are re-parented to J); the host adds
the cgroup's figures and its own watchdog.

Without namespaces (``plain`` mode, rlimits-only, or a one-shot run) the same code runs J
directly on the host under a leased uid.

Wire format, both directions: frames ``type (1 byte) + length (4 bytes, big endian) + payload``.
host -> sandbox: H job header (JSON), F file (name NUL data), G go, T test (JSON NUL stdin), E end
of job, Q quit.  sandbox -> host: J event (JSON), O stdout chunk, R stderr chunk, V functional
return value (JSON, produced by the solution's process and validated by the host), B fetched
file chunk.  The host parses JSON only and validates every frame; nothing here is executed
there.

This module is also imported by the host (argument parser, value encoder, frame constants), so
importing it must have no side effects.
"""
import json
import os
import select
import signal
import struct
import sys
import time

IN_FD = 201              # supervisor/J: the host's job stream
OUT_FD = 200             # supervisor/J: frames to the host
FUNC_RESULT_FD = 3       # functional mode: the solution's process writes its return value here
FRAME_HEAD = struct.Struct("!cI")
CHUNK = 1 << 16
MAX_CONTROL = 1 << 16    # largest J frame (event JSON)
FORWARD_AT = 1 << 18     # J holds up to this much of a test's output before forwarding

CHILD_ENV_DEFAULT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}

# Modules imported once in the supervisor so that forked children find them in sys.modules.
# Not threading (nor queue, which imports it): its after-fork hook makes every forked test
# process copy ~130 pages (~0.3 ms a test here); the few solutions that use threads import
# it themselves (~0.5 ms).
PREIMPORT = (
    "io", "math", "cmath", "random", "re", "string", "collections", "heapq", "bisect",
    "itertools", "functools", "operator", "typing", "fractions", "decimal", "array",
    "copy", "datetime", "statistics", "traceback", "dataclasses",
    "enum", "numbers", "inspect", "ast", "ctypes", "resource", "shutil",
)

# System calls the solution never needs and that could reach outside its process tree.
SECCOMP_DENY = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "bpf", "keyctl", "add_key", "request_key",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "perf_event_open",
    "userfaultfd", "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff", "reboot",
    "syslog", "acct", "quotactl", "mount_setattr", "fsopen", "fsconfig", "fsmount", "fspick",
    "open_tree", "move_mount", "lookup_dcookie", "iopl", "ioperm", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "vhangup", "fanotify_init",
)
CLONE_NEW_FLAGS = (0x10000000, 0x00020000, 0x20000000, 0x40000000, 0x08000000, 0x04000000,
                   0x02000000, 0x00000080)   # user, mount, pid, net, ipc, uts, cgroup, time


def encode_frame(kind, payload=b""):
    return FRAME_HEAD.pack(kind, len(payload)) + payload


# ----------------------------------------------------------------------------------
# Argument parsing (shared with the host).  Literal parsing only: never eval.
# ----------------------------------------------------------------------------------
_NAME_CONSTANTS = {"null": None, "None": None, "true": True, "True": True,
                   "false": False, "False": False, "inf": float("inf"),
                   "nan": float("nan")}


def _literal(node):
    import ast
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAME_CONSTANTS:
        return _NAME_CONSTANTS[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        vals = [_literal(e) for e in node.elts]
        return vals if isinstance(node, ast.List) else tuple(vals)
    if isinstance(node, ast.Set):
        return {_literal(e) for e in node.elts}
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _literal(node.operand)
        if isinstance(v, (int, float, complex)) and not isinstance(v, bool):
            return -v if isinstance(node.op, ast.USub) else +v
    if (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))
            and isinstance(node.right, ast.Constant) and isinstance(node.right.value, complex)):
        left = _literal(node.left)
        return left + node.right.value if isinstance(node.op, ast.Add) else left - node.right.value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in ("float", "set", "tuple", "list") and not node.keywords
            and len(node.args) <= 1):
        arg = _literal(node.args[0]) if node.args else ()
        if node.func.id == "float" and isinstance(arg, str) and arg.strip().lower() in (
                "inf", "-inf", "+inf", "nan", "infinity", "-infinity"):
            return float(arg)
        if node.func.id in ("set", "tuple", "list") and isinstance(arg, (list, tuple, set, str)):
            return {"set": set, "tuple": tuple, "list": list}[node.func.id](arg)
    raise ValueError("not a literal: %s" % ast.dump(node)[:200])


def parse_literal(text):
    """Parse a Python literal (also accepting JSON's null/true/false).  No eval."""
    import ast
    return _literal(ast.parse(text.strip(), mode="eval").body)


def parse_args(text):
    """Parse a functional test input into (args, kwargs).

    Accepted forms:
      * keyword style ``n = 7, queries = [[0,5]]`` (LeetCode),
      * a JSON object ``{"n": 7, "queries": [[0, 5]]}`` -> kwargs,
      * a JSON list ``[7, [[0, 5]]]`` -> positional args (so a single list argument
        must be wrapped: ``[[1, 2, 3]]``),
      * positional call style ``7, [[0, 5]]``.
    """
    import ast
    text = text.strip()
    if not text:
        return [], {}
    if text[0] in "[{":
        try:
            val = json.loads(text)
        except ValueError:
            val = None
        if isinstance(val, list):
            return val, {}
        if isinstance(val, dict):
            return [], val
    try:
        call = ast.parse("f(%s)" % text, mode="eval").body
    except SyntaxError:
        # Multi-line inputs: one argument per line.
        call = ast.parse("f(%s)" % ",".join(l for l in text.splitlines() if l.strip()),
                         mode="eval").body
    if not isinstance(call, ast.Call):
        raise ValueError("bad argument list")
    args = [_literal(a) for a in call.args]
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise ValueError("**kwargs not allowed")
        kwargs[kw.arg] = _literal(kw.value)
    return args, kwargs


# ----------------------------------------------------------------------------------
# Value encoding (child -> host): JSON only.
# ----------------------------------------------------------------------------------
def encode_value(v, _depth=0):
    """Turn a return value into JSON-safe data (lists, dicts, str, int, float, bool, None).

    Non-finite floats become {"$float": "inf"}; linked lists and trees are serialised the
    LeetCode way; unknown objects become {"$repr": repr(obj)}.
    """
    if _depth > 2000:
        raise ValueError("value nested too deeply")
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return {"$float": repr(v)}
        return v
    if isinstance(v, (list, tuple)):
        return [encode_value(x, _depth + 1) for x in v]
    if isinstance(v, (set, frozenset)):
        items = [encode_value(x, _depth + 1) for x in v]
        try:
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))
        except Exception:
            pass
        return items
    if isinstance(v, dict):
        return {str(k): encode_value(x, _depth + 1) for k, x in v.items()}
    cls = type(v).__name__
    if cls == "ListNode" and hasattr(v, "val"):
        out, seen = [], 0
        while v is not None and seen < 10 ** 6:
            out.append(encode_value(v.val, _depth + 1))
            v = getattr(v, "next", None)
            seen += 1
        return out
    if cls == "TreeNode" and hasattr(v, "val"):
        from collections import deque
        out, q = [], deque([v])
        while q:
            n = q.popleft()
            if n is None:
                out.append(None)
                continue
            out.append(encode_value(n.val, _depth + 1))
            q.append(getattr(n, "left", None))
            q.append(getattr(n, "right", None))
        while out and out[-1] is None:
            out.pop()
        return out
    try:
        import numbers
        if isinstance(v, numbers.Integral):
            return int(v)
        if isinstance(v, numbers.Real):
            return encode_value(float(v))
    except Exception:
        pass
    return {"$repr": repr(v)[:10000]}


# ----------------------------------------------------------------------------------
# The functional-mode reporter: return value -> JSON text, with every reference taken when
# this module is loaded (before any solution code runs in the process).  A solution that
# replaces json.dumps, builtins, this module's globals or the standard library afterwards
# cannot change what this closure calls; what reaches the host is validated there anyway.
# ----------------------------------------------------------------------------------
def _make_reporter():
    import numbers as _numbers
    _type, _isinstance, _getattr, _len, _str, _sorted = type, isinstance, getattr, len, str, sorted
    _int, _float, _repr, _bool, _list, _tuple, _dict, _set, _frozenset = (
        int, float, repr, bool, list, tuple, dict, set, frozenset)
    _int_copy, _float_copy, _str_copy = int.__int__, float.__float__, str.__str__
    _int_repr, _float_repr = int.__repr__, float.__repr__
    _list_copy, _tuple_get, _dict_items = list.copy, tuple.__getitem__, dict.items
    _set_copy, _fset_copy = set.copy, frozenset.copy
    _translate, _join, _encode = str.translate, str.join, str.encode
    _Integral, _Real = _numbers.Integral, _numbers.Real
    _all = slice(None)
    _inf = float("inf")
    _esc = {i: "\\u%04x" % i for i in range(32)}
    _esc.update({34: '\\"', 92: "\\\\"})
    _esc.update({i: "\\u%04x" % i for i in range(0xD800, 0xE000)})

    def js(s):
        return '"' + _translate(s, _esc) + '"'

    def seq(items, depth, canon):
        return "[" + _join(",", [enc(x, depth + 1, canon) for x in items]) + "]"

    def enc(v, depth, canon):
        if depth > 2000:
            raise ValueError("value nested too deeply")
        t = _type(v)
        if v is None:
            return "null"
        if t is _bool:
            return "true" if v else "false"
        if t is _int:
            return _int_repr(v)
        if t is _str:
            return js(v)
        if t is _float:
            if v != v or v == _inf or v == -_inf:
                return '{"$float":"' + _float_repr(v) + '"}'
            return _float_repr(v)
        if t is _list:
            return seq(v, depth, canon)
        if t is _tuple:
            return seq(v, depth, canon)
        if t is _dict:
            return obj(_dict_items(v), depth, canon)
        if _isinstance(v, _int):
            return _int_repr(_int_copy(v))
        if _isinstance(v, _float):
            return enc(_float_copy(v), depth, canon)
        if _isinstance(v, _str):
            return js(_str_copy(v))
        if _isinstance(v, _list):
            return seq(_list_copy(v), depth, canon)
        if _isinstance(v, _tuple):
            return seq(_tuple_get(v, _all), depth, canon)
        if _isinstance(v, _dict):
            return obj(_dict_items(v), depth, canon)
        if _isinstance(v, (_set, _frozenset)):
            items = _set_copy(v) if _isinstance(v, _set) else _fset_copy(v)
            texts = [enc(x, depth + 1, True) for x in items]
            return "[" + _join(",", _sorted(texts)) + "]"
        name = t.__name__ if _type(t.__name__) is _str else ""
        if name == "ListNode" and _getattr(v, "val", _all) is not _all:
            out, n = [], 0
            while v is not None and n < 10 ** 6:
                out.append(enc(_getattr(v, "val", None), depth + 1, canon))
                v = _getattr(v, "next", None)
                n += 1
            return "[" + _join(",", out) + "]"
        if name == "TreeNode" and _getattr(v, "val", _all) is not _all:
            out, queue, k = [], [v], 0
            while k < _len(queue) and k < 10 ** 7:
                node = queue[k]
                k += 1
                if node is None:
                    out.append("null")
                    continue
                out.append(enc(_getattr(node, "val", None), depth + 1, canon))
                queue.append(_getattr(node, "left", None))
                queue.append(_getattr(node, "right", None))
            while out and out[-1] == "null":
                out.pop()
            return "[" + _join(",", out) + "]"
        if _isinstance(v, _Integral):
            return _int_repr(_int_copy(_int(v)))
        if _isinstance(v, _Real):
            return enc(_float_copy(_float(v)), depth, canon)
        return '{"$repr":' + js(_str_copy(_repr(v))[:10000]) + "}"

    def obj(items, depth, canon):
        parts = []
        for k, x in items:
            key = k if _type(k) is _str else _str(k)
            parts.append(js(_str_copy(key)) + ":" + enc(x, depth + 1, canon))
        if canon:
            parts = _sorted(parts)
        return "{" + _join(",", parts) + "}"

    def value_json(v, canon=False):
        """JSON text of a return value (sets sorted, ListNode/TreeNode as lists)."""
        return enc(v, 0, canon)

    def report(v, text):
        return _encode('{"value":' + enc(v, 0, False) + ',"text":' + js(_str_copy(text)) + "}",
                       "utf-8")

    return value_json, report


value_json, report_value = _make_reporter()


# ----------------------------------------------------------------------------------
# Kernel interfaces (ctypes; everything here runs inside the sandbox)
# ----------------------------------------------------------------------------------
_libc = None
CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x20000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_REC, MS_PRIVATE = 16384, 1 << 18
MNT_DETACH = 2
PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_SECUREBITS = 4, 22, 28
PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 24, 36, 38, 47
SECUREBITS_LOCKED_NOROOT = 0xEF   # noroot, no_setuid_fixup, no_cap_ambient_raise, all locked


def libc():
    global _libc
    if _libc is None:
        import ctypes
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(rc, what):
    if rc != 0:
        import ctypes
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def mount(src, target, fstype, flags, data=None):
    _check(libc().mount(src and src.encode(), target.encode(), fstype and fstype.encode(),
                        flags, data and data.encode()), "mount " + target)


def fresh_tmpfs(target, size_bytes, mode="1777", flags=MS_NOSUID | MS_NODEV, over=False):
    """Replace whatever is mounted at ``target`` by an empty tmpfs (lazy unmount of the old
    one: descriptors the solution left open there lose nothing of ours).  ``over``: mount on
    top instead (a new mount namespace's copy of its parent's mount, which dies with it)."""
    if not over:
        libc().umount2(target.encode(), MNT_DETACH)
    mount("tmpfs", target, "tmpfs", flags, "size=%d,mode=%s" % (size_bytes, mode))


def scrub_tmpfs(target, size_bytes, first=False):
    """Make ``target`` an empty tmpfs.  Unmounting costs an RCU grace period (~10-30 ms), so
    a tmpfs the last test left untouched (only its root inode in use, mode intact) is kept,
    a lightly used one is emptied in place, and anything else is replaced."""
    if first:
        fresh_tmpfs(target, size_bytes, over=True)
        return
    if True:  # noqa: SIM108 (kept as a block: the cheap paths first)
        try:
            st, vfs = os.lstat(target), os.statvfs(target)
            used = vfs.f_files - vfs.f_ffree
            if used <= 1 and (st.st_mode & 0o7777) == 0o1777:
                return
            if used <= 256 and (st.st_mode & 0o7777) == 0o1777 and _empty_dir(target):
                return
        except OSError:
            pass
    fresh_tmpfs(target, size_bytes)


def _empty_dir(path):
    """Delete everything below ``path`` (entries the solution made unreadable included);
    True when it is empty afterwards."""
    import stat as _stat
    try:
        for entry in os.scandir(path):
            p = entry.path
            st = os.lstat(p)
            if _stat.S_ISDIR(st.st_mode):
                os.chmod(p, 0o700)
                if not _empty_dir(p):
                    return False
                os.rmdir(p)
            else:
                os.unlink(p)
        return not os.listdir(path)
    except OSError:
        return False


_PRIV = {}


def prepare_privileges(seccomp_bpf):
    """Build once (in the supervisor) what drop_privileges needs, so each child only makes
    system calls."""
    import ctypes

    class Hdr(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    try:
        last = int(open("/proc/sys/kernel/cap_last_cap").read())
    except (OSError, ValueError):
        last = 63
    _PRIV.update(hdr=Hdr(0x20080522, 0), data=(Data * 2)(), last=last, prctl=libc().prctl,
                 capset=libc().capset, byref=ctypes.byref)
    if seccomp_bpf:
        buf = ctypes.create_string_buffer(seccomp_bpf, len(seccomp_bpf))
        _PRIV.update(buf=buf, prog=Prog(len(seccomp_bpf) // 8, ctypes.cast(buf, ctypes.c_void_p)))


def restrict_capability_inheritance():
    """No process forked from here can ever regain a capability it drops, exec included
    (even as uid 0 of the user namespace): locked securebits, empty bounding set, no
    ambient capabilities.  Done once in the supervisor; its own effective capabilities
    (mounts, namespaces for each solution) stay."""
    p = _PRIV
    prctl = p["prctl"]
    if prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_NOROOT, 0, 0, 0) == 0:
        for cap in range(p["last"] + 1):
            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    prctl(PR_CAP_AMBIENT, 4, 0, 0, 0)   # PR_CAP_AMBIENT_CLEAR_ALL
    p["bounded"] = True


def drop_privileges(seccomp_bpf):
    """In a child before untrusted code: no capabilities (and none regained by exec, even
    as uid 0 of the user namespace), no_new_privs, the seccomp filter."""
    if not _PRIV:
        prepare_privileges(seccomp_bpf)
    p = _PRIV
    prctl = p["prctl"]
    if not p.get("bounded"):
        restrict_capability_inheritance()
    _check(p["capset"](p["byref"](p["hdr"]), p["data"]), "capset")
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if seccomp_bpf:
        _check(prctl(PR_SET_SECCOMP, 2, p["byref"](p["prog"]), 0, 0), "seccomp")


def build_seccomp():
    """The filter as BPF bytes (python3-seccomp), or None where libseccomp is missing."""
    try:
        import seccomp
    except ImportError:
        return None
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in SECCOMP_DENY:
        try:
            f.add_rule(seccomp.ERRNO(1), name)
        except Exception:    # unknown on this architecture
            pass
    try:   # glibc falls back to clone(2), whose flags the filter can see
        f.add_rule(seccomp.ERRNO(38), "clone3")
    except Exception:
        pass
    for flag in CLONE_NEW_FLAGS:
        f.add_rule(seccomp.ERRNO(1), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(1), "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, 0x5412))
    r, w = os.pipe()
    try:
        with os.fdopen(w, "wb") as fw:
            f.export_bpf(fw)
        data = b""
        while True:
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
    return data if data and len(data) % 8 == 0 else None


# ----------------------------------------------------------------------------------
# Frames
# ----------------------------------------------------------------------------------
def write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:      # the channel is non-blocking while a test runs
            select.select([], [fd], [])
            continue
        view = view[n:]


def send(kind, payload=b""):
    write_all(OUT_FD, encode_frame(kind, payload))


def emit(obj):
    send(b"J", json.dumps(obj).encode())


def read_exact(fd, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("host closed the channel")
        buf += chunk
    return bytes(buf)


def read_frame(fd=None):
    fd = IN_FD if fd is None else fd
    kind, n = FRAME_HEAD.unpack(read_exact(fd, FRAME_HEAD.size))
    if n > (1 << 20):
        raise ValueError("frame too large")
    return kind, read_exact(fd, n)


def safe_name(name):
    """A plain file name from the host (never a path)."""
    if not isinstance(name, str) or "/" in name or name in ("", ".", ".."):
        raise ValueError("bad file name %r" % (name,))
    return name


def copy_to_file(fd_in, n, path, mode=0o644):
    """Stream ``n`` raw bytes of the host's channel into ``path`` (never all in memory)."""
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        while n > 0:
            chunk = os.read(fd_in, min(n, 1 << 20))
            if not chunk:
                raise EOFError("host closed the channel")
            write_all(out, chunk)
            n -= len(chunk)
    finally:
        os.close(out)


# ----------------------------------------------------------------------------------
# Children
# ----------------------------------------------------------------------------------
def _set_rlimits(lim, cpu_s=None, nproc=None):
    import resource

    def setl(res, val):
        try:
            resource.setrlimit(res, (val, val))
        except (ValueError, OSError):
            pass
    cpu = cpu_s if cpu_s is not None else lim["cpu_s"]
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    except (ValueError, OSError):
        pass
    setl(resource.RLIMIT_AS, lim["as_bytes"])
    setl(resource.RLIMIT_STACK, lim["stack_bytes"])
    setl(resource.RLIMIT_FSIZE, lim["fsize_bytes"])
    setl(resource.RLIMIT_NOFILE, lim["nofile"])
    setl(resource.RLIMIT_CORE, 0)
    if nproc:
        setl(resource.RLIMIT_NPROC, nproc)


def _tree_node(values):
    from collections import deque
    TreeNode = _PRELUDE_NS.get("TreeNode")
    if not values:
        return None
    root = TreeNode(values[0])
    q, i = deque([root]), 1
    while q:
        node = q.popleft()
        if i < len(values) and values[i] is not None:
            node.left = TreeNode(values[i])
            q.append(node.left)
        i += 1
        if i < len(values) and values[i] is not None:
            node.right = TreeNode(values[i])
            q.append(node.right)
        i += 1
    return root


def _list_node(values):
    ListNode = _PRELUDE_NS.get("ListNode")
    head = None
    for v in reversed(values or []):
        head = ListNode(v, head)
    return head


_PRELUDE_NS = {}


def _resolve_entry(ns, entry):
    entry = (entry or "").strip()
    if "(" in entry and ")." in entry:          # "Solution().method"
        cls_name, meth = entry.split("(", 1)[0].strip(), entry.rsplit(".", 1)[1].strip()
        return getattr(ns[cls_name](), meth)
    if "." in entry:                             # "Solution.method"
        cls_name, meth = entry.split(".", 1)
        return getattr(ns[cls_name](), meth)
    if "Solution" in ns and isinstance(ns["Solution"], type) and hasattr(ns["Solution"], entry):
        return getattr(ns["Solution"](), entry)
    return ns[entry]


def _convert_args(fn, args, kwargs):
    """Convert list arguments to ListNode/TreeNode where the signature asks for them."""
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return args, kwargs
    params = list(sig.parameters.values())

    def conv(param, value):
        ann = param.annotation
        ann = ann if isinstance(ann, str) else repr(ann)
        if isinstance(value, list) or value is None:
            if "TreeNode" in ann and "List[" not in ann:
                return _tree_node(value)
            if "ListNode" in ann and "List[" not in ann:
                return _list_node(value)
        return value

    args = [conv(params[i], a) if i < len(params) else a for i, a in enumerate(args)]
    kwargs = {k: (conv(sig.parameters[k], v) if k in sig.parameters else v)
              for k, v in kwargs.items()}
    return args, kwargs


def _returns_node(fn):
    try:
        import inspect
        ann = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return False
    ann = ann if isinstance(ann, str) else repr(ann)
    return ("TreeNode" in ann or "ListNode" in ann) and "List[" not in ann


def _exit_code(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def _finish(rc, *namespaces):
    """Interpreter shutdown in CPython's order (Py_FinalizeEx): join threads, run atexit
    callbacks (many solutions flush an output buffer there), flush the standard streams,
    close user stream wrappers while the module's globals exist (the common "FastIO"
    template only writes its buffer then), flush again.  Never returns."""
    import io
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
    except BaseException:
        pass
    try:
        import atexit
        atexit._run_exitfuncs()
    except BaseException:
        pass

    def flush_std(rc):
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None and not stream.closed:
                    stream.flush()
            except BaseException:
                rc = rc or 120
        return rc
    rc = flush_std(rc)
    std = {id(x) for x in (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__,
                           sys.__stdout__, sys.__stderr__)}
    for ns in namespaces:
        for v in list((ns or {}).values()):
            if isinstance(v, io.IOBase) and id(v) not in std:
                try:
                    v.close()
                except BaseException:
                    pass
    os._exit(flush_std(rc))


def _run_python_main(job, test, codes):
    """stdin mode: the pre-compiled solution as __main__ in this forked child."""
    import traceback
    rc, g = 0, None
    try:
        src = job["source"]
        sys.argv = list(test.get("argv") or [src])
        sys.path.insert(0, os.path.dirname(src) or ".")
        g = {"__name__": "__main__", "__file__": src, "__builtins__": __builtins__,
             "__spec__": None, "__doc__": None}
        exec(codes["solution"], g)
    except SystemExit as e:
        rc = _exit_code(e)
    except BaseException:
        try:   # the last frames only: a 10^6-deep traceback would take ages to format
            traceback.print_exc(limit=-20)
        except BaseException:
            pass
        rc = 1
    _finish(rc, g)


def child_setup(ctx, job, stdin_fd, fds, nproc_base, cpu_s=None):
    """Forked child: wire fds (0-2, then 3.. for FUNC_RESULT_FD and the loader's pipes),
    close every other descriptor, lock down, apply limits."""
    import fcntl
    os.setsid()
    if stdin_fd is None:
        stdin_fd = os.open(os.devnull, os.O_RDONLY)
    targets = [stdin_fd, fds["out"], fds["err"]]
    targets += [fds[k] for k in ("res", "cmd", "ack") if fds.get(k) is not None]
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000 + k) for k, fd in enumerate(targets)]
    for k, fd in enumerate(high):
        os.dup2(fd, k)
    os.closerange(len(high), 65536)
    os.chdir(ctx["box"])
    os.umask(0o022)
    lim = job["limits"]
    _set_rlimits(lim, cpu_s=cpu_s,
                 nproc=(lim["nproc"] + nproc_base) if lim.get("nproc") else None)
    if ctx["ns"]:
        drop_privileges(ctx["seccomp"])
    elif ctx["seccomp"]:
        try:
            drop_privileges(ctx["seccomp"])
        except OSError:
            pass


def _child(ctx, job, test, codes, fds, stdin_fd, nproc_base):
    """Forked child of J for one test.  Never returns."""
    try:
        child_setup(ctx, job, stdin_fd, fds, nproc_base)
        if job["kind"] == "exec":
            for s in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGXCPU):
                signal.signal(s, signal.SIG_DFL)
            argv = test.get("argv") or job["argv"]
            os.execve(argv[0], argv, job.get("env") or CHILD_ENV_DEFAULT)
        else:
            signal.signal(signal.SIGXCPU, signal.SIG_DFL)
            try:
                libc().prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)   # its own /proc/self
            except Exception:
                pass
            _run_python_main(job, test, codes)
    except BaseException as e:  # noqa: BLE001
        try:
            os.write(2, ("judge: cannot start: %r\n" % (e,)).encode())
        except BaseException:
            pass
    os._exit(127)


def fork_zygote(ctx):
    """Fork Z from J -- ahead of the job, while J waits for it -- and return J's end of
    their channel.  Z locks itself down at once and waits for the job (``arm_zygote``)."""
    import socket
    j_sock, z_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            j_sock.close()
            _zygote(ctx, z_sock.fileno())
        except BaseException:  # noqa: BLE001
            pass
        os._exit(127)
    z_sock.close()
    return {"pid": pid, "sock": j_sock}


def _zygote(ctx, sock_fd):
    """Z (stdin-mode Python, one per solution): locked down once like a test's process
    (no capabilities, no_new_privs, seccomp, the job's rlimits), then one clone per test
    (CLONE_PARENT, so J waits for it and measures it) wired to the test's stdin and pipes,
    which J passes over the socket.  The per-test child only rewires descriptors: no
    lockdown to build again, and J's own pages are never write-protected by a fork.  Z
    never runs the solution's code; a test's process may signal it (same uid), which only
    loses the zygote (J starts another).  Z stays non-dumpable (no /proc/<Z>/mem for the
    tests).  Never returns."""
    import ctypes
    import fcntl
    import resource
    import socket
    os.setsid()
    high = fcntl.fcntl(sock_fd, fcntl.F_DUPFD, 1000)
    null = os.open(os.devnull, os.O_RDWR)
    for k in range(3):
        os.dup2(null, k)
    os.dup2(high, 3)
    os.closerange(4, 65536)
    os.chdir(ctx["box"])
    os.umask(0o022)
    drop_privileges(ctx["seccomp"])
    sock = socket.socket(fileno=3)
    msg = sock.recv(1 << 16)
    if not msg:
        os._exit(0)
    job = json.loads(msg)
    lim = job["limits"]
    _set_rlimits(lim, cpu_s=lim["cpu_s"] * 1000,
                 nproc=(lim["nproc"] + job["nproc_base"]) if lim.get("nproc") else None)
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    with open(job["source"], "rb") as f:
        codes = {"solution": compile(f.read(), job["source"], "exec", dont_inherit=True)}
    pydll = ctypes.PyDLL(None, use_errno=True)
    syscall = pydll.syscall
    syscall.restype = ctypes.c_long
    after_fork = ctypes.pythonapi.PyOS_AfterFork_Child
    cpu_s = lim["cpu_s"]
    pack = struct.Struct("!q").pack
    import gc
    # What Z holds (the driver's objects, the compiled solution) is never scanned by a
    # test's garbage collections: R and every clone start with the same collector work.
    gc.collect()
    gc.freeze()
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 4)
        except OSError:
            os._exit(0)
        if not msg or len(fds) != 3:
            os._exit(0)
        if job.get("become_runner"):
            # Z itself becomes R (job["reuse"]): no clone, so none of the copy-on-write
            # faults a clone pays again for every page Z already touched.  Z is J's child
            # like a clone; J forks a new Z if a fresh process is needed later.
            try:
                sock.send(pack(os.getpid()))
            except OSError:
                os._exit(0)
            try:
                _take_test_descriptors(fds, 4)       # (fd 3, its socket, stays)
                null = os.open(os.devnull, os.O_RDONLY)    # fd 4
                _runner(job, codes, msg, 3, null)
            except BaseException as e:  # noqa: BLE001
                _cannot_start(e)
            os._exit(127)           # (never reached: _runner does not return)
        pid = syscall(56, 0x8000 | 17, 0, 0, 0, 0)      # clone(CLONE_PARENT | SIGCHLD)
        if pid != 0:
            for fd in fds:
                os.close(fd)
            try:
                sock.send(pack(pid))
            except OSError:
                os._exit(0)
            continue
        after_fork()
        try:
            os.setsid()
            _take_test_descriptors(fds, 3)           # (Z's socket closed too)
            try:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
            except (ValueError, OSError):
                pass
            test = {"argv": json.loads(msg[1:])} if msg[:1] == b"A" else {}
            _run_python_main(job, test, codes)
        except BaseException as e:  # noqa: BLE001
            _cannot_start(e)
        os._exit(127)               # (never reached: _run_python_main does not return)


def _take_test_descriptors(fds, close_from):
    """A test's process: stdin, stdout and stderr from the descriptors J sent, every
    descriptor from ``close_from`` on closed (the received originals among them), its own
    /proc/self readable."""
    for k, fd in enumerate(fds):
        os.dup2(fd, k)
    os.closerange(close_from, 65536)
    try:
        libc().prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    except Exception:  # noqa: BLE001
        pass


def _cannot_start(e):
    """A test's process that failed before the solution ran: say why, exit 127."""
    try:
        os.write(2, ("judge: cannot start: %r\n" % (e,)).encode())
    except BaseException:  # noqa: BLE001
        pass
    os._exit(127)


# Signals whose handlers a solution might change; a changed one ends the runner (below).
_RUNNER_SIGNALS = ("SIGINT", "SIGTERM", "SIGALRM", "SIGPIPE", "SIGXCPU", "SIGXFSZ", "SIGHUP",
                   "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGSEGV", "SIGVTALRM", "SIGPROF")


_RUNNER_MODULES = ("math", "cmath", "random", "re", "string", "collections", "heapq", "bisect",
                   "itertools", "functools", "operator", "fractions", "decimal", "array", "copy",
                   "datetime", "statistics", "typing", "os", "io", "time", "threading")


def _dict_version_reader():
    """A function giving a dict's version tag -- CPython's ``ma_version_tag`` (PEP 509),
    which every change of the dict moves -- read from the object's memory, so that no
    value in the dict is touched.  Copying or comparing a module's dict increments the
    reference count of every value in it, and in a process forked from the driver each
    such write copies a page: ~470 page faults, ~4 ms here, for the dicts R watches.
    None where this interpreter's layout is not the one expected (checked on a probe)."""
    try:
        import ctypes
        word = ctypes.sizeof(ctypes.c_void_p)
        if word != 8 or sys.implementation.name != "cpython":
            return None
        used_at, tag_at = 2 * word, 3 * word     # after ob_refcnt, ob_type: ma_used, tag
        from_address = ctypes.c_uint64.from_address
        used_of = ctypes.c_ssize_t.from_address

        def version(d):
            return from_address(id(d) + tag_at).value
        probe = {}
        probe["a"] = 1
        v0 = version(probe)
        probe["b"] = 2
        v1 = version(probe)
        probe["b"] = 3
        v2 = version(probe)
        if not (v0 != v1 and v1 != v2 and v0 != v2 and used_of(id(probe) + used_at).value == 2):
            return None
        return version
    except Exception:  # noqa: BLE001
        return None


def _runner(job, codes, msg, sock_fd, null_fd):
    """R (stdin-mode Python, ``job["reuse"]``): Z itself, once it has its first test; runs
    the tests of its one solution one after another, each as ``__main__`` in a fresh module
    namespace with fresh standard streams on the test's pipes, and the random state,
    decimal context and umask of a fresh clone.  After a test R reports ``D`` + exit code
    to J on its socket (fd 3) and waits for the next test -- but only when the test ended
    clean (exit code 0, one thread, no atexit callback, no descriptor left open, builtins,
    sys, the dicts of the stdlib modules solutions use, warnings filters, locale, signal
    handlers, itimers, environment and cwd as they were, memory small); otherwise it ends
    exactly as a per-test clone does (``_finish``) and J gives the next test a fresh Z.

    Why this cannot forge a verdict: R is what a per-test clone is (J's child, same
    seccomp, capabilities, rlimits; no descriptor of the host channel), J measures R's CPU
    (schedstat) and peak memory (VmHWM) itself and enforces the wall limit, and a new J in
    new namespaces still runs every solution.  What a solution can do here and not in a
    clone is keep state across its own tests (or send J a false ``D``, which only ends its
    own test early): it never sees an expected output, so no answer it could not print.
    What it can carry is *work* (a table kept in a stdlib class attribute): so J charges a
    later test with the CPU R spent in the earlier ones, and a later test that does not end
    clean within the limit so charged runs again in a fresh process, whose verdict counts
    (Runner.run_zygote).  One CPU rlimit covers all of R's tests.  Never returns."""
    import builtins
    import gc
    import io
    import atexit
    import resource
    import socket
    import traceback
    _listdir, _dup2, _getcwd, _open, _read, _close = (os.listdir, os.dup2, os.getcwd,
                                                       os.open, os.read, os.close)
    _getrusage, _setrlimit, _RUSAGE_SELF = resource.getrusage, resource.setrlimit, resource.RUSAGE_SELF
    _RLIMIT_CPU = resource.RLIMIT_CPU
    _getitimer = signal.getitimer
    _getsignal = signal.getsignal
    _exec, _dict, _list, _set, _len, _isinstance, _id = exec, dict, list, set, len, isinstance, id
    _IOBase, _TextIOWrapper, _BufferedReader, _BufferedWriter, _FileIO = (
        io.IOBase, io.TextIOWrapper, io.BufferedReader, io.BufferedWriter, io.FileIO)
    _pack, _exit_code_, _finish_, _print_exc = struct.pack, _exit_code, _finish, traceback.print_exc
    _ncallbacks = atexit._ncallbacks
    _recv_fds = socket.recv_fds
    sock = socket.socket(fileno=sock_fd)
    lim = job["limits"]
    cpu_s = lim["cpu_s"]
    cpu_hard = resource.getrlimit(_RLIMIT_CPU)[1]
    src = job["source"]
    box = _getcwd()
    sys.path.insert(0, os.path.dirname(src) or ".")
    path0 = _list(sys.path)
    # The standard streams as the interpreter builds them (pylifecycle.c create_stdio):
    # same encodings, error handlers, newline and buffering, fresh objects per test.
    stream_args = []
    for k, s in enumerate((sys.__stdin__, sys.__stdout__, sys.__stderr__)):
        stream_args.append((getattr(s, "encoding", None) or "utf-8",
                            getattr(s, "errors", None) or "strict",
                            bool(getattr(s, "line_buffering", False)),
                            bool(getattr(s, "write_through", False))))
    sigs = [getattr(signal, n) for n in _RUNNER_SIGNALS if hasattr(signal, n)]
    timers = [getattr(signal, n) for n in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF")]
    sig0 = [_getsignal(s) for s in sigs]
    recursion0 = sys.getrecursionlimit()
    digits0 = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    thresholds0 = gc.get_threshold()
    env0 = _dict(os.environ._data)
    # builtins and the modules solutions use, already loaded: their dicts must come out of
    # a test unchanged.  Watched by version tag where the interpreter allows (a change of
    # any kind, even a value set to itself, ends R: only ever a fresh process more), else
    # by a copy.  Not every loaded module: a patched internal module, like any state a
    # solution keeps across its own tests, cannot forge a verdict (see above).
    watched = [builtins.__dict__] + [
        m.__dict__ for m in (sys.modules.get(n) for n in _RUNNER_MODULES)
        if m is not None and _isinstance(getattr(m, "__dict__", None), _dict)]
    _version = _dict_version_reader()
    if _version is not None:
        dicts0 = [(d, _version(d)) for d in watched]

        def dicts_unchanged():
            for d, v in dicts0:
                if _version(d) != v:
                    return False
            return True
    else:
        dicts0 = [(d, _dict(d)) for d in watched]

        def dicts_unchanged():
            return all(d == d0 for d, d0 in dicts0)
    names = ("<stdin>", "<stdout>", "<stderr>")
    std_keys = ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__")
    gc.freeze()       # what R inherited is never scanned again: a collection per test is cheap
    pipe_r, pipe_w = os.pipe()         # fd 5: only ever a stand-in for fd 0 (see below)
    _close(pipe_w)
    fd_ok = {"0", "1", "2", "3", "4", str(pipe_r)}
    # What a fresh clone of Z starts with, given to every test: a random generator seeded
    # afresh (a clone reseeds it after the fork, random's at-fork hook), Z's decimal
    # context, the umask.
    import random as _random
    import decimal as _decimal
    import warnings as _warnings
    import _locale
    _reseed = _random.seed
    _decimal_ctx0 = _decimal.getcontext().copy()
    _setcontext = _decimal.setcontext
    _umask = os.umask
    _filters0 = _list(_warnings.filters)
    _locale0 = _locale.setlocale(_locale.LC_ALL, None)
    # One CPU limit for all of R's tests together: work carried from one test to another
    # is counted where it was done, and J runs a later test again in a fresh process when
    # its CPU with R's earlier tests passes the limit (Runner.run_zygote).  R is stopped
    # once that can no longer be a passing test's.
    r = _getrusage(_RUSAGE_SELF)
    try:
        _setrlimit(_RLIMIT_CPU, (int(r.ru_utime + r.ru_stime) + 1 + cpu_s, cpu_hard))
    except (ValueError, OSError):
        pass
    while True:
        argv = json.loads(msg[1:]) if msg[:1] == b"A" else None
        sys.argv = _list(argv or [src])
        _reseed()
        _setcontext(_decimal_ctx0.copy())
        _umask(0o022)
        # The interpreter's own sys.stdin was made on the sandbox's pipe and says it cannot
        # seek (cached at creation); the test's stdin is a memfd.  Made while fd 0 is a
        # pipe, the new one says the same.
        saved = os.dup(0)
        _dup2(pipe_r, 0)
        streams = []
        for k, (enc, errs, lb, wt) in enumerate(stream_args):
            raw = _FileIO(k, "rb" if k == 0 else "wb", closefd=False)
            raw.name = names[k]
            buf = _BufferedReader(raw) if k == 0 else _BufferedWriter(raw)
            s = _TextIOWrapper(buf, encoding=enc, errors=errs, newline="\n",
                               line_buffering=lb, write_through=wt)
            s.mode = "r" if k == 0 else "w"      # (templates test file.mode)
            streams.append(s)
        _dup2(saved, 0)
        _close(saved)
        sys.stdin, sys.stdout, sys.stderr = streams
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams
        sys0 = _dict(sys.__dict__)
        rc, g, clean = 0, None, True
        try:
            g = {"__name__": "__main__", "__file__": src, "__builtins__": builtins,
                 "__spec__": None, "__doc__": None}
            _exec(codes["solution"], g)
        except SystemExit as e:
            rc = _exit_code_(e)
        except BaseException:
            try:
                _print_exc(limit=-20)
            except BaseException:
                pass
            rc = 1
        try:
            clean = (rc == 0 and _len(_listdir("/proc/self/task")) == 1 and _ncallbacks() == 0)
            if clean:
                # _finish's order, less what a clean test cannot need: flush, close the
                # stream wrappers of the namespace, flush again
                std = {_id(x) for x in (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__,
                                        sys.__stdout__, sys.__stderr__)}
                for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
                    if s is not None and not s.closed:
                        s.flush()
                for v in _list(g.values()):
                    if _isinstance(v, _IOBase) and _id(v) not in std:
                        v.close()
                for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
                    if s is not None and not s.closed:
                        s.flush()
        except BaseException:
            clean = False
        if not clean:
            _finish_(rc, g)               # never returns
        try:
            g.clear()
            g = None
            for k, key in enumerate(std_keys):
                setattr(sys, key, streams[k % 3])
            for s in streams:
                try:
                    s.flush()
                except BaseException:
                    clean = False
            streams = None
            sys.stdin = sys.stdout = sys.stderr = None
            sys.__stdin__ = sys.__stdout__ = sys.__stderr__ = None
            gc.collect()
            for k in range(3):
                _dup2(null_fd, k)
            sys0.update(zip(std_keys, (None,) * 6))
            sys0["argv"] = sys.argv                 # (set afresh for every test)
            if _isinstance(sys.path, _list):
                sys.path[:] = path0
            clean = clean and (
                sys.__dict__ == sys0 and dicts_unchanged()
                and os.environ._data == env0
                and _getcwd() == box and sys.gettrace() is None and sys.getprofile() is None
                and [_getsignal(s) for s in sigs] == sig0
                and all(_getitimer(t) == (0.0, 0.0) for t in timers)
                and _warnings.filters == _filters0
                and _locale.setlocale(_locale.LC_ALL, None) == _locale0
                and _len(_set(_listdir("/proc/self/fd")) - fd_ok) <= 1)
            if clean:
                # cheap state a test may change and that is put back rather than checked
                sys.setrecursionlimit(recursion0)
                if digits0 is not None:
                    sys.set_int_max_str_digits(digits0)
                if not gc.isenabled():
                    gc.enable()
                gc.set_threshold(*thresholds0)
                # (memory: J retires R when its peak or size has grown too far)
        except BaseException:
            clean = False
        if not clean:
            os._exit(rc)      # the output is flushed and the test's descriptors closed
        try:
            sock.send(_pack("!cq", b"D", rc))
            msg, fds, _flags, _addr = _recv_fds(sock, 1 << 16, 3)
        except OSError:
            os._exit(0)
        if not msg or _len(fds) != 3:
            os._exit(0)
        for k, fd in enumerate(fds):
            _dup2(fd, k)
            _close(fd)


# ----------------------------------------------------------------------------------
# Functional mode: the loader (L) and its per-test clones (T)
# ----------------------------------------------------------------------------------
def _loader(job, codes):
    """L: lock down, run the module once, then clone one T per test.  Never returns.

    Every name the loop and T use is bound here, before the solution's module code runs.
    """
    import ctypes
    import resource
    import traceback
    _write, _read, _close, _exit, _setsid = os.write, os.read, os.close, os._exit, os.setsid
    _pack, _unpack = struct.pack, struct.unpack
    _report, _parse, _resolve, _convert, _returns_node_ = (
        report_value, parse_args, _resolve_entry, _convert_args, _returns_node)
    _setrlimit, _RLIMIT_CPU = resource.setrlimit, resource.RLIMIT_CPU
    _print_exc, _finish_ = traceback.print_exc, _finish
    _str, _len, _bytes_decode = str, len, bytes.decode
    pydll = ctypes.PyDLL(None, use_errno=True)
    _syscall = pydll.syscall
    _syscall.restype = ctypes.c_long
    _after_fork = ctypes.pythonapi.PyOS_AfterFork_Child
    cmd_fd, ack_fd, cap = 4, 5, job["limits"]["output_bytes"]
    cpu_s = job["limits"]["cpu_s"]
    src = job["source"]
    ns = {"__name__": "solution", "__builtins__": __builtins__}
    sys.argv = [src]
    sys.path.insert(0, os.path.dirname(src) or ".")
    ok = b"L"
    try:
        if codes.get("prelude") is not None:
            exec(codes["prelude"], ns)
            _PRELUDE_NS.update(ns)
        exec(codes["solution"], ns)
        for name in ("ListNode", "TreeNode"):
            if name in ns:
                _PRELUDE_NS[name] = ns[name]
    except SystemExit as e:
        if _exit_code(e) != 0:
            ok = b"X"
    except BaseException:
        try:
            _print_exc(limit=-20)
        except BaseException:
            pass
        ok = b"X"
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    _write(ack_fd, ok)
    if ok != b"L":
        _exit(1)
    while True:
        head = _read(cmd_fd, 4)
        if _len(head) < 4:
            _exit(0)
        n = _unpack("!I", head)[0]
        data = b""
        while _len(data) < n:
            chunk = _read(cmd_fd, n - _len(data))
            if not chunk:
                _exit(0)
            data += chunk
        pid = _syscall(56, 0x8000 | 17, 0, 0, 0, 0)      # clone(CLONE_PARENT | SIGCHLD)
        if pid != 0:
            _write(ack_fd, _pack("!q", pid))
            continue
        _after_fork()
        rc = 0
        try:
            _setsid()
            _close(cmd_fd)
            _close(ack_fd)
            try:
                _setrlimit(_RLIMIT_CPU, (cpu_s, cpu_s + 1))
            except (ValueError, OSError):
                pass
            args, kwargs = _parse(_bytes_decode(data, "utf-8"))
            fn = _resolve(ns, job["entry"])
            args, kwargs = _convert(fn, args, kwargs)
            result = fn(*args, **kwargs)
            if result is None and _returns_node_(fn):
                result = []          # LeetCode serialises an empty list/tree as []
            try:
                text = _str(result)[:1 << 20]
            except BaseException:
                text = ""
            payload = _report(result, text)
            if _len(payload) > cap:
                payload = b'{"too_big": true}'
            view = memoryview(payload)
            while view:
                view = view[_write(FUNC_RESULT_FD, view):]
            _close(FUNC_RESULT_FD)
        except SystemExit as e:
            rc = _exit_code(e)
        except BaseException:
            try:
                _print_exc(limit=-20)
            except BaseException:
                pass
            rc = 1
        _finish_(rc, ns)


# ----------------------------------------------------------------------------------
# J: one solution, all its tests
# ----------------------------------------------------------------------------------
def _cpu_of(pid):
    """CPU seconds used so far by a live process, all its threads (schedstat: ns)."""
    total, found = 0.0, False
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        tasks = []
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0]) / 1e9
                found = True
        except (OSError, ValueError, IndexError):
            pass
    if found:
        return total
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class _ProcStat:
    """A live process's CPU time and memory, read again and again through descriptors kept
    open (pread regenerates a /proc file): R's figures around each of its tests."""

    def __init__(self, pid):
        self.fds = []
        for name in ("schedstat", "stat", "status"):
            self.fds.append(os.open("/proc/%d/%s" % (pid, name), os.O_RDONLY | os.O_CLOEXEC))
        self.tick = 1.0 / os.sysconf("SC_CLK_TCK")

    def cpu(self):
        """CPU seconds: the main thread's (schedstat, ns), or the whole thread group's
        (stat, clock ticks; threads that already exited included) when that is clearly
        more -- so a thread that worked and ended within a test is never missed."""
        ns = int(os.pread(self.fds[0], 128, 0).split()[0]) / 1e9
        fields = os.pread(self.fds[1], 4096, 0).rsplit(b")", 1)[1].split()
        group = (int(fields[11]) + int(fields[12])) * self.tick
        return group if group > ns + 2 * self.tick else ns

    def mem(self):
        """(peak, current, virtual) KiB: VmHWM, VmRSS, VmSize."""
        data = os.pread(self.fds[2], 8192, 0)
        out = []
        for key in (b"VmHWM:", b"VmRSS:", b"VmSize:"):
            k = data.find(key)
            out.append(int(data[k + len(key):data.index(b"kB", k)]) if k >= 0 else 0)
        return tuple(out)

    def close(self):
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []


def _own_cpu():
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _set_nonblock(fd):
    import fcntl
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _wipe(path):
    import shutil
    try:
        entries = os.listdir(path)
    except OSError:
        return
    for name in entries:
        p = os.path.join(path, name)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)
        except OSError:
            pass


def _kill_and_reap(pid):
    """SIGKILL one helper process of J's (zygote, runner, loader) and wait for it; it may be gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass


class Runner:
    """J's state for one job."""

    def __init__(self, ctx, job, zygote=None):
        self.ctx, self.job = ctx, job
        os.set_blocking(OUT_FD, False)   # J queues a test's output while the host is busy
        self.lim = job["limits"]
        self.codes = {}
        self.loader = None          # (pid, pipes) in functional mode
        self.loader_failed = None   # result template when the module could not load
        self.loader_cpu = 0.0
        self.functional = job["kind"] == "python" and job.get("mode") == "functional"
        # stdin-mode Python in a namespace: tests are clones of a locked-down zygote,
        # forked ahead of the job (see _zygote)
        self.use_zygote = (job["kind"] == "python" and not self.functional
                           and bool(ctx["ns"]))
        self.zygote = zygote        # {"pid", "sock"} while Z lives
        self.zygote_failures = 0
        # job["reuse"]: the tests run one after another in Z itself (R, see _runner)
        # while they end clean; {"pid", "sock", "cpu0"} while R lives
        self.reuse = bool(job.get("reuse")) and self.use_zygote
        self.runner = None
        if zygote is not None and not self.use_zygote:
            self.stop_zygote()
        self.scrubbed = set()
        self.judge_dirty = False
        self.load_cpu_pending = 0.0
        self.retry_mark = None      # J's CPU when it last said "retry" (see run_zygote)

    # --- paths ----------------------------------------------------------------------
    def sub(self, s):
        c = self.ctx
        return (s.replace("{box}", c["box"]).replace("{judge}", c["judge"])
                 .replace("{tmp}", c["tmp"]).replace("{out}", c["tmp"] + "/out")
                 .replace("{test}", c["judge"] + "/t"))

    def fresh_scratch(self):
        c = self.ctx
        if c["ns"]:
            for path, size in ((c["tmp"], c["tmp_bytes"]), ("/dev/shm", c["shm_bytes"])):
                scrub_tmpfs(path, size, first=path not in self.scrubbed)
                # (the first time: mount over the namespace-wide copy, no unmount)
                self.scrubbed.add(path)
        else:
            _wipe(c["tmp"])
        if self.job.get("fetch"):
            os.mkdir(c["tmp"] + "/out", 0o777)
            os.chmod(c["tmp"] + "/out", 0o777)

    # --- job ------------------------------------------------------------------------
    def receive_files(self):
        while True:
            kind, payload = read_frame()
            if kind == b"G":
                return
            if kind != b"F":
                raise ValueError("unexpected frame %r before go" % kind)
            meta = json.loads(payload)
            copy_to_file(IN_FD, int(meta["len"]),
                         os.path.join(self.ctx["box"], safe_name(meta["name"])),
                         0o755 if meta.get("exec") else 0o644)

    def compile(self):
        job = self.job
        if job["kind"] != "python":
            return True
        with open(job["source"], "rb") as f:
            src = f.read()
        try:
            self.codes["solution"] = compile(src, job["source"], "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:
            emit({"ev": "compile_error", "message": "%s: %s" % (type(e).__name__, e)})
            return False
        if job.get("prelude") is not None:
            self.codes["prelude"] = compile(job["prelude"], "<prelude>", "exec",
                                            dont_inherit=True)
        return True

    def run(self):
        self.receive_files()
        if self.ctx["ns"]:
            mount(None, self.ctx["box"], None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        job = self.job
        if job.get("argv"):
            job["argv"] = [self.sub(a) for a in job["argv"]]
        if job.get("source"):
            job["source"] = os.path.join(self.ctx["box"], job["source"])
        if not self.compile():
            self.stop_zygote()
            emit({"ev": "done"})
            return
        if self.use_zygote:
            self.arm_zygote()
        emit({"ev": "ready"})
        while True:
            kind, payload = read_frame()
            if kind == b"E":
                break
            if kind != b"T":
                raise ValueError("unexpected frame %r" % kind)
            test = json.loads(payload)
            emit(self.run_test(test))
        self.stop_loader()
        emit({"ev": "done"})
        self.stop_runner()
        self.stop_zygote()      # (after done: the host need not wait for it)

    # --- one test -------------------------------------------------------------------
    def judge_dir_writable(self, writable):
        """/judge holds the test's input: writable for J between tests, read-only while the
        test runs (its processes have J's uid inside the namespace)."""
        if self.ctx["ns"]:
            mount(None, self.ctx["judge"], None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV
                  | MS_NOEXEC | (0 if writable else MS_RDONLY))

    def take_test_files(self, test):
        """The test's stdin as a sealed memfd (a regular file to the program: fstat gives its
        size, it can be mmap'd, nobody can change it); per-test files (checker runs) in
        /judge/t, which is read-only while the test runs."""
        stdin_fd = None
        if test.get("stdin_len") is not None:
            n = int(test["stdin_len"])
            stdin_fd = os.memfd_create("stdin", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
            while n > 0:
                chunk = os.read(IN_FD, min(n, 1 << 20))
                if not chunk:
                    raise EOFError("host closed the channel")
                write_all(stdin_fd, chunk)
                n -= len(chunk)
            import fcntl
            fcntl.fcntl(stdin_fd, 1033, 1 | 2 | 4 | 8)   # F_ADD_SEALS: seal, shrink, grow, write
            os.lseek(stdin_fd, 0, os.SEEK_SET)
        if test.get("files") or self.judge_dirty:
            judge = self.ctx["judge"]
            self.judge_dir_writable(True)
            _wipe(judge)
            for meta in test.get("files") or ():
                os.makedirs(judge + "/t", mode=0o755, exist_ok=True)
                copy_to_file(IN_FD, int(meta["len"]), judge + "/t/" + safe_name(meta["name"]))
            self.judge_dir_writable(False)
            self.judge_dirty = bool(test.get("files"))
        if test.get("argv"):
            test["argv"] = [self.sub(a) for a in test["argv"]]
        return stdin_fd

    def nproc_base(self):
        if self.ctx["ns"]:
            # supervisor, J (+ L or Z): the processes of the sandbox's uid besides the
            # test's own (with reuse Z becomes the test's process: no zygote beside it)
            return 2 + (1 if (self.functional or (self.use_zygote and not self.reuse)) else 0)
        return self.ctx["nproc_base"]

    def run_test(self, test):
        i = test["i"]
        start = _own_cpu()
        stdin_fd = self.take_test_files(test)
        self.fresh_scratch()
        try:
            if self.functional:
                res = self.run_functional(test)
            elif self.use_zygote:
                res = self.run_zygote(test, stdin_fd)
            else:
                res = self.run_forked(test, stdin_fd)
        finally:
            if stdin_fd is not None:
                os.close(stdin_fd)
        res["i"] = i
        if self.job.get("fetch") and res.get("exit_code") == 0:
            res["fetched"] = self.fetch(self.ctx["tmp"] + "/out/" + self.job["fetch"])
        # J's own work for this test (copying input, forwarding output): the host takes it
        # out of the cgroup's CPU figure, which counts every process of the sandbox (since
        # the retry, when the test ran again: the host resets the cgroup's figures then).
        if self.retry_mark is not None:
            start, self.retry_mark = max(start, self.retry_mark), None
        res["j_cpu"] = round(_own_cpu() - start + self.load_cpu_pending, 6)
        self.load_cpu_pending = 0.0
        return res

    def run_forked(self, test, stdin_fd):
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(out_r)
            os.close(err_r)
            _child(self.ctx, self.job, test, self.codes, {"out": out_w, "err": err_w},
                   stdin_fd, self.nproc_base())
        os.close(out_w)
        os.close(err_w)
        return self.watch(pid, t0, out_r, err_r, None, own_pipes=True)

    # stdin-mode Python: the zygote ------------------------------------------------------
    def arm_zygote(self):
        """Z (forked ahead, or now) gets the job: its limits, the source to compile.
        Without an armed zygote the tests are plain forks of J."""
        if self.zygote is None:
            self.zygote = fork_zygote(self.ctx)
        z = self.zygote
        job = {"source": self.job["source"], "limits": self.lim,
               "nproc_base": self.nproc_base(), "become_runner": self.reuse}
        # No answer awaited: Z compiles while J reports ready; a Z that cannot take the
        # job exits, and the first test then runs as a plain fork (run_zygote).
        try:
            z["sock"].settimeout(10.0)
            z["sock"].send(json.dumps(job).encode())
        except OSError:
            self.stop_zygote()
            return False
        return True

    def stop_zygote(self):
        z, self.zygote = self.zygote, None
        if not z:
            return
        _kill_and_reap(z["pid"])
        z["sock"].close()

    def stop_runner(self):
        r, self.runner = self.runner, None
        if not r:
            return
        _kill_and_reap(r["pid"])
        r["sock"].close()
        r["stat"].close()

    def run_reused(self, test, stdin_fd):
        """The next test in the live R: its descriptors over R's socket, no process made."""
        import socket
        r = self.runner
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        null = None
        if stdin_fd is None:
            stdin_fd = null = os.open(os.devnull, os.O_RDONLY)
        # R has waited in recv since its last test ended clean: those figures are these
        r["cpu0"], r["hwm0"], r["rss0"], _ = r["end"]
        t0 = time.monotonic()
        try:
            argv = test.get("argv")
            socket.send_fds(r["sock"], [b"A" + json.dumps(argv).encode() if argv else b"-"],
                            [stdin_fd, out_w, err_w])
            ok = True
        except OSError:
            ok = False
        finally:
            os.close(out_w)
            os.close(err_w)
            if null is not None:
                os.close(null)
        if not ok:
            os.close(out_r)
            os.close(err_r)
            return None
        return self.watch(r["pid"], t0, out_r, err_r, None, own_pipes=True)

    def run_zygote(self, test, stdin_fd):
        r = self.runner
        if r is not None and r["end"][0] - r["birth"] + r["max_own"] > self.lim["time_s"]:
            # Charged with what it already spent, R would likely pass the limit in this
            # test (and the test would be run again, see below): a fresh process at once.
            self.stop_runner()
            r = None
        if r is not None:
            res = self.run_reused(test, stdin_fd)
            if res is not None:
                carried = max(0.0, r["cpu0"] - r["birth"])
                res["carried"] = round(carried, 4)
                if self.reused_result_stands(res, carried):
                    return res
                # A later test of R that did not end clean, or whose CPU with what R spent
                # in earlier tests passes the limit: the verdict a fresh process earns is
                # the one that counts.  The host drops what this run sent (retry).
                emit({"ev": "retry", "i": test["i"]})
                self.retry_mark = _own_cpu()
                self.fresh_scratch()
            self.stop_runner()          # R is gone: this test in a fresh one
            if stdin_fd is not None:
                os.lseek(stdin_fd, 0, os.SEEK_SET)
        return self.run_fresh(test, stdin_fd)

    def reused_result_stands(self, res, carried):
        """A result of R's second or later test is final if the test ended clean (exit 0,
        no signal, within its wall limit and output cap) and its CPU plus the CPU R spent in
        earlier tests is within the limit -- whatever work it carried over from earlier
        tests is then paid for inside one limit, as in a fresh process -- or if its own CPU
        alone passed the limit (TLE: work carried over only ever saves CPU).  Anything else
        runs again in a fresh process."""
        if res["cpu"] > self.lim["time_s"]:
            return True
        return (res.get("exit_code") == 0 and res.get("signal") is None
                and not res.get("timed_out") and not res.get("ole")
                and carried + res["cpu"] <= self.lim["time_s"])

    def run_fresh(self, test, stdin_fd):
        """The test in a process that ran nothing before it: a clone of Z, or -- with
        job["reuse"] -- Z itself, which becomes R."""
        import socket
        if self.zygote is None and not self.arm_zygote():
            return self.run_forked(test, stdin_fd)
        z = self.zygote
        stat, birth = None, 0.0
        if self.reuse:
            try:
                stat = _ProcStat(z["pid"])
                birth = stat.cpu()
            except (OSError, ValueError, IndexError):
                if stat is not None:
                    stat.close()
                # Z cannot be measured (gone?): this test as a plain fork, the next anew
                self.stop_zygote()
                return self.run_forked(test, stdin_fd)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        given = stdin_fd
        null = None
        if stdin_fd is None:
            stdin_fd = null = os.open(os.devnull, os.O_RDONLY)
        t0 = time.monotonic()
        pid = 0
        try:
            # Z answers in milliseconds; one a test stopped is given up after a second
            z["sock"].settimeout(min(1.0, max(0.5, self.lim["wall_s"])))
            argv = test.get("argv")
            socket.send_fds(z["sock"], [b"A" + json.dumps(argv).encode() if argv else b"-"],
                            [stdin_fd, out_w, err_w])
            ack = z["sock"].recv(8)
            if len(ack) == 8:
                pid = struct.unpack("!q", ack)[0]
        except OSError:
            pid = 0
        finally:
            os.close(out_w)
            os.close(err_w)
            if null is not None:
                os.close(null)
        if self.reuse and pid > 0:
            if pid == z["pid"]:
                # Z became R (see _zygote): its channel is now R's, and no zygote is left
                self.zygote = None
                # birth: Z's own CPU (lockdown, compile), never charged to a test; end:
                # R's figures when its last test ended clean; max_own: the most one took
                self.runner = {"pid": pid, "sock": z["sock"], "cpu0": birth, "birth": birth,
                               "hwm0": 0, "rss0": 0, "max_own": 0.0, "stat": stat,
                               "end": None}
            else:
                pid = 0
        if stat is not None and self.runner is None:
            stat.close()
        if pid <= 0 or _parent_of(pid) != os.getpid():
            self.stop_runner()
            # Z died or hung (a previous test's process may have signalled it): this test
            # runs as a plain fork of J, the next in a new zygote -- after a few failures
            # (a zygote that cannot start here) all of them run as plain forks.
            self.stop_zygote()
            self.zygote_failures += 1
            if self.zygote_failures >= 3:
                self.use_zygote = False
            os.close(out_r)
            os.close(err_r)
            return self.run_forked(test, given)
        res = self.watch(pid, t0, out_r, err_r, None, own_pipes=True)
        res["carried"] = 0.0        # (a fresh process)
        return res

    # functional ------------------------------------------------------------------------
    def start_loader(self):
        cmd_r, cmd_w = os.pipe()
        ack_r, ack_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        job = self.job
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                child_setup(self.ctx, job, None, {"out": out_w, "err": err_w, "res": res_w,
                                                  "cmd": cmd_r, "ack": ack_w},
                            self.nproc_base() - 1, cpu_s=job["limits"]["cpu_s"] * 1000)
                try:
                    libc().prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
                except Exception:
                    pass
                signal.signal(signal.SIGXCPU, signal.SIG_DFL)
                _loader(job, self.codes)
            except BaseException as e:  # noqa: BLE001
                try:
                    os.write(2, ("judge: cannot start: %r\n" % (e,)).encode())
                except BaseException:
                    pass
            os._exit(127)
        for fd in (cmd_r, ack_w, out_w, err_w, res_w):
            os.close(fd)
        for fd in (out_r, err_r, res_r, ack_r):
            _set_nonblock(fd)
        self.loader = {"pid": pid, "cmd": cmd_w, "ack": ack_r, "out": out_r, "err": err_r,
                       "res": res_r}
        return t0

    def stop_loader(self):
        ld = self.loader
        if not ld:
            return
        _kill_and_reap(ld["pid"])
        self.drop_loader()

    def drop_loader(self):
        ld, self.loader = self.loader, None
        if not ld:
            return
        for k in ("cmd", "ack", "out", "err", "res"):
            try:
                os.close(ld[k])
            except OSError:
                pass

    def loader_alive(self):
        ld = self.loader
        if not ld:
            return False
        try:
            with open("/proc/%d/stat" % ld["pid"]) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X", "T", "t")

    def wait_ack(self, n, deadline):
        """Read n bytes from the loader's ack pipe before ``deadline`` (None on timeout/EOF)."""
        ld, buf = self.loader, b""
        poller = select.poll()
        poller.register(ld["ack"], select.POLLIN)
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(max(1, int(left * 1000))):
                return None
            try:
                chunk = os.read(ld["ack"], n - len(buf))
            except BlockingIOError:
                continue
            if not chunk:
                return None
            buf += chunk
        return buf

    def ensure_loader(self):
        """A loaded L, or a result template saying why there is none."""
        if self.loader_failed is not None:
            return self.loader_failed
        if self.loader_alive():
            return None
        self.stop_loader()
        t0 = self.start_loader()
        ld = self.loader
        ack = self.wait_ack(1, t0 + self.lim["wall_s"])
        wall = time.monotonic() - t0
        cpu = _cpu_of(ld["pid"])
        err = self.drain(ld["err"], self.lim["stderr_bytes"])
        self.drain(ld["out"], 0)
        self.loader_cpu = cpu
        self.load_cpu_pending += cpu      # not the test's time (the host subtracts it)
        if ack == b"L" and cpu <= self.lim["time_s"]:
            return None
        self.stop_loader()
        timed_out = ack is None or cpu > self.lim["time_s"]
        self.loader_failed = {
            "ev": "result", "wall": round(wall, 4), "cpu": round(cpu, 4), "mem_kb": 0,
            "exit_code": None if timed_out else 1, "signal": None, "timed_out": timed_out,
            "ole": False, "out_bytes": 0, "stderr": err.decode("utf-8", "replace"),
            "phase": "load",
        }
        return self.loader_failed

    def drain(self, fd, cap):
        data = bytearray()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            if len(data) < cap:
                data += chunk[:cap - len(data)]
        return bytes(data)

    def run_functional(self, test):
        failed = self.ensure_loader()
        if failed is not None:
            for kind, data in ((b"R", failed["stderr"].encode()),):
                if data:
                    send(kind, data[:MAX_CONTROL])
            res = dict(failed)
            res.pop("stderr", None)
            return res
        ld = self.loader
        for k in ("out", "err", "res", "ack"):       # whatever L wrote between tests
            self.drain(ld[k], 0)
        args = (test.get("args") or "").encode("utf-8")
        before = _cpu_of(ld["pid"])
        t0 = time.monotonic()
        try:
            write_all(ld["cmd"], struct.pack("!I", len(args)) + args)
        except OSError:
            pass
        ack = self.wait_ack(8, t0 + self.lim["wall_s"])
        pid = struct.unpack("!q", ack)[0] if ack else 0
        if pid <= 0 or _parent_of(pid) != os.getpid():
            # L did not clone a test process of ours: it died, hung or lied.
            res = self.finish_test(None, t0, False, None, ld["out"], ld["err"], ld["res"],
                                   bytearray(), bytearray(), timed_out=ack is None)
            res["exit_code"], res["signal"] = None, None
            res["cpu"] = round(res["cpu"] + max(0.0, _cpu_of(ld["pid"]) - before), 4)
            self.stop_loader()
            return res
        res = self.watch(pid, t0, ld["out"], ld["err"], ld["res"], own_pipes=False,
                         loader_cpu_before=before)
        return res

    # monitoring ------------------------------------------------------------------------
    def watch(self, pid, t0, out_r, err_r, res_r, own_pipes, loader_cpu_before=None):
        lim = self.lim
        out_cap, err_cap, res_cap = lim["output_bytes"], lim["stderr_bytes"], lim["output_bytes"] + 64
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        fds = [out_r, err_r] + ([res_r] if res_r is not None else [])
        for fd in fds:
            _set_nonblock(fd)
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        poller.register(IN_FD, 0)           # POLLHUP only: the host went away
        rsock = self.runner["sock"] if self.runner and self.runner["pid"] == pid else None
        if rsock is not None:
            rsock.setblocking(False)
            poller.register(rsock.fileno(), select.POLLIN)
        done = None                         # R's exit code when it reported a clean end
        open_fds = set(fds)
        state = {"out": 0, "ole": False}
        err_buf, res_buf = bytearray(), bytearray()
        deadline = t0 + lim["wall_s"]
        timed_out = exited = False
        status = ru = None
        # R's CPU in this test is watched here, to the millisecond: R's rlimit (whole
        # seconds, for all its tests together) is only the backstop.  R stops just past the
        # limit (TLE), not up to a second later.
        runner = self.runner if rsock is not None else None
        cpu_budget = lim["time_s"]
        cpu_check = t0 + cpu_budget if runner is not None else None   # (CPU <= wall time)

        def pump(fd):
            try:
                data = os.read(fd, CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                poller.unregister(fd)
                open_fds.discard(fd)
                return
            if fd == out_r:
                room = out_cap - state["out"]
                if len(data) > room:
                    data, state["ole"] = data[:max(room, 0)], True
                if data:
                    # queued, not sent: a slow host must not stall the program (its wall
                    # time) -- the queue is bounded by the output cap
                    wq.extend(encode_frame(b"O", data))
                    state["out"] += len(data)
            elif fd == err_r:
                if len(err_buf) < err_cap:
                    err_buf.extend(data[:err_cap - len(err_buf)])
            elif len(res_buf) < res_cap:
                res_buf.extend(data[:res_cap - len(res_buf)])

        wq = bytearray()            # frames for the host not yet written
        watching_out = False
        while True:
            # Small outputs go to the host in one write when the test ends (no wakeup of
            # the host per chunk); large ones stream as they come.
            if len(wq) >= FORWARD_AT and not watching_out:
                poller.register(OUT_FD, select.POLLOUT)
                watching_out = True
            elif len(wq) < FORWARD_AT and watching_out:
                poller.unregister(OUT_FD)
                watching_out = False
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if cpu_check is not None and now >= cpu_check:
                try:
                    used = runner["stat"].cpu() - runner["cpu0"]
                except (OSError, ValueError, IndexError):
                    used = 0.0     # (R is gone: the pidfd says so)
                if used > cpu_budget:
                    cpu_check = None
                    try:
                        os.kill(pid, signal.SIGKILL)     # (reaped as the test ends)
                    except OSError:
                        pass
                else:
                    cpu_check = now + max(0.002, cpu_budget - used)
            if pidfd is None:
                wpid, st, r = os.wait4(pid, os.WNOHANG)
                if wpid:
                    exited, status, ru = True, st, r
                    break
                timeout = min(deadline - now, 0.01)
            else:
                timeout = deadline - now
            if cpu_check is not None:
                timeout = min(timeout, max(0.0, cpu_check - now))
            for fd, ev in poller.poll(max(1, int(timeout * 1000))):
                if fd == pidfd:
                    exited = True
                elif rsock is not None and fd == rsock.fileno():
                    try:
                        m = rsock.recv(64)
                    except BlockingIOError:
                        continue
                    except OSError:
                        m = b""
                    if len(m) == 9 and m[:1] == b"D":
                        poller.unregister(fd)
                        done = struct.unpack("!q", m[1:])[0]
                        exited = True
                    elif m:
                        # Not R's message (the program wrote to R's socket): the test
                        # runs on; R is not trusted with another one.
                        self.runner["untrusted"] = True
                    else:
                        poller.unregister(fd)      # R is gone: its pidfd says so
                elif fd == IN_FD:
                    if ev & (select.POLLHUP | select.POLLERR):
                        os._exit(3)            # host gone: everything of ours dies with us
                elif fd == OUT_FD:
                    if ev & (select.POLLERR | select.POLLHUP):
                        os._exit(3)
                    try:
                        n = os.write(OUT_FD, wq[:1 << 20])
                        del wq[:n]
                    except BlockingIOError:
                        pass
                else:
                    pump(fd)
            if exited or state["ole"]:
                break
        if watching_out:
            poller.unregister(OUT_FD)
        if pidfd is not None:
            os.close(pidfd)
        return self.finish_test(pid, t0, timed_out, (status, ru) if status is not None else None,
                                out_r, err_r, res_r, err_buf, res_buf, state=state,
                                own_pipes=own_pipes, pump=pump, open_fds=open_fds,
                                loader_cpu_before=loader_cpu_before, wq=wq, done=done)

    def finish_test(self, pid, t0, timed_out, waited, out_r, err_r, res_r, err_buf, res_buf,
                    state=None, own_pipes=False, pump=None, open_fds=None,
                    loader_cpu_before=None, wq=None, done=None):
        wall = time.monotonic() - t0
        keep = self.loader["pid"] if (self.functional and self.loader and self.ctx["ns"]) else None
        if self.zygote is not None:
            keep = self.zygote["pid"]
        runner = self.runner if (self.runner and self.runner["pid"] == pid) else None
        r_cpu = r_mem = 0
        done_retire = False
        if runner is not None and done is not None and not state["ole"]:
            # R ended the test clean and waits for the next one: J's own figures of it.
            # CPU: schedstat now less before.  Peak memory: VmHWM cannot be reset here
            # (/proc is read-only, so no clear_refs): a peak that rose in this test is this
            # test's; otherwise the larger resident size before/after (a peak of an
            # earlier test is never reported; the host's cgroup peak adds this test's
            # growth).  A runner whose peak passed a quarter of the limit is retired, so
            # an earlier test's peak can never be mistaken for MLE later (see below).
            try:
                cpu_now = runner["stat"].cpu()
                hwm, rss, size = runner["stat"].mem()
            except (OSError, ValueError, IndexError):
                cpu_now, hwm, rss, size = runner["cpu0"], 0, 0, 0
                done_retire = True
            r_cpu = max(0.0, cpu_now - runner["cpu0"])
            r_mem = hwm if hwm > runner["hwm0"] else max(rss, runner["rss0"])
            as_bytes = self.lim["as_bytes"] or 1 << 62
            if hwm * 1024 > as_bytes // 4 or size * 1024 > as_bytes // 2:
                done_retire = True
            runner["end"] = (cpu_now, hwm, rss, size)
            runner["max_own"] = max(runner["max_own"], r_cpu)
            keep = (keep, pid)
            pid, waited = None, None
        elif runner is not None:
            done = None        # R dies with the test; its rusage counts from cpu0 on
            self.runner = None
            runner["sock"].close()
            runner["stat"].close()
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        reaped = self.kill_others(keep)
        if not self.none_left:      # (the scan saw no process of the test: nothing to wait for)
            reaped.update(self.reap_all(exclude=keep, deadline=time.monotonic() + 2.0))
        if done is not None and (reaped or self.found_others or done_retire
                                 or runner.get("untrusted")):
            # the test left processes behind: R is not trusted with another test
            self.stop_runner()
            runner = None
        if waited is not None and pid is not None:
            reaped[pid] = waited
        if self.zygote is not None and self.zygote["pid"] in reaped:
            reaped.pop(self.zygote["pid"])      # the test killed Z: a new one next time
            self.zygote["pid"] = -1
            self.stop_zygote()
        lpid = self.loader["pid"] if (self.functional and self.loader) else None
        loader_died = False
        cpu = r_cpu
        rpid = runner["pid"] if runner is not None else None
        for p, (st_, r) in reaped.items():
            if r is not None and p != lpid:
                if p == rpid:     # R's rusage covers all its tests
                    cpu += max(0.0, r.ru_utime + r.ru_stime - runner["cpu0"])
                else:
                    cpu += r.ru_utime + r.ru_stime
        mem = max([(r.ru_maxrss if p != rpid or r.ru_maxrss > runner["hwm0"] else runner["rss0"])
                   for p, (st_, r) in reaped.items() if r is not None and p != lpid]
                  + [r_mem])
        if loader_cpu_before is not None and lpid is not None:
            if lpid in reaped:        # the test killed the loader: it is reloaded next time
                r = reaped[lpid][1]
                cpu += max(0.0, r.ru_utime + r.ru_stime - loader_cpu_before)
                loader_died = True
            else:
                cpu += max(0.0, _cpu_of(lpid) - loader_cpu_before)
        status = reaped.get(pid, (None, None))[0] if pid is not None else None
        if done is not None:
            status = (done & 0xFF) << 8          # as wait() reports exit(done)
        # What the test's processes wrote before they died is in the pipes: take it.
        if pump is not None:
            for fd in list(open_fds or ()):
                for _ in range(4096):
                    if fd not in open_fds:
                        break
                    before = (state["out"], len(err_buf), len(res_buf))
                    pump(fd)
                    if (state["out"], len(err_buf), len(res_buf)) == before:
                        break
        if own_pipes:
            for fd in (out_r, err_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
        if loader_died:
            self.drop_loader()
        if wq:
            write_all(OUT_FD, bytes(wq))
            del wq[:]
        for kind, buf in ((b"R", err_buf), (b"V", res_buf)):
            for k in range(0, len(buf), CHUNK):
                send(kind, bytes(buf[k:k + CHUNK]))
        return {
            "ev": "result", "wall": round(wall, 4), "cpu": round(cpu, 4), "mem_kb": int(mem),
            "exit_code": os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None,
            "timed_out": bool(timed_out), "ole": bool(state and state["ole"]),
            "out_bytes": state["out"] if state else 0,
        }

    def kill_others(self, keep):
        """Every process of the test dies.  In its own pid namespace J is init: kill(-1)
        reaches all of them and never J; with a loader or zygote to keep, kill them one by
        one (J sees every process, non-dumpable ones included: CAP_SYS_PTRACE of the
        sandbox's user namespace defeats hidepid for J alone).  Returns what it reaped on
        the way (pid -> (status, rusage)): a dead process stays in /proc until reaped, so
        reaping between passes is what lets the loop end."""
        c = self.ctx
        reaped = {}
        self.found_others = self.none_left = False
        keep = set(keep) - {None} if isinstance(keep, tuple) else ({keep} - {None})
        if c["ns"] and not keep:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            return reaped
        if c["ns"]:
            me = os.getpid()
            for k in range(200):
                while True:
                    try:
                        wpid, st, ru = os.wait4(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if not wpid:
                        break
                    reaped[wpid] = (st, ru)
                found = False
                for name in os.listdir("/proc"):
                    if name.isdigit() and int(name) != me and int(name) not in keep:
                        found = self.found_others = True
                        try:
                            os.kill(int(name), signal.SIGKILL)
                        except OSError:
                            pass
                if not found:
                    self.none_left = not reaped and not self.found_others
                    break
                if k:
                    time.sleep(0.0002)    # killed ones still dying
            return reaped
        if c.get("sweep"):
            try:   # plain mode under a leased uid: kill(-1) as that uid is confined to it
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
        return reaped

    def reap_all(self, exclude, deadline):
        """Reap the test's processes (every child but ``exclude``, the loader); returns
        pid -> (status, rusage).  Without a namespace and without a sweep, orphans that
        left the process group are not waited for."""
        out = {}
        wait = self.ctx["ns"] or self.ctx.get("sweep")
        while True:
            try:
                wpid, st, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return out
            if wpid:
                out[wpid] = (st, ru)
                continue
            if not wait or time.monotonic() > deadline:
                return out
            if exclude is not None and not self.has_children(exclude):
                return out
            time.sleep(0.0005)

    def has_children(self, exclude):
        """Any process besides J and ``exclude`` still in the namespace?"""
        me = os.getpid()
        ex = set(exclude) if isinstance(exclude, tuple) else {exclude}
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != me and int(name) not in ex:
                return True
        return False

    def fetch(self, path):
        """Send a file the test produced (the compiled binary) to the host."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            import stat
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > self.job.get("fetch_max", 1 << 28):
                return None
            n = 0
            while True:
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    break
                send(b"B", chunk)
                n += len(chunk)
            return n
        finally:
            os.close(fd)


# ----------------------------------------------------------------------------------
# Supervisor
# ----------------------------------------------------------------------------------
def clone_into_namespaces():
    """fork() whose child is born in new mount, pid and ipc namespaces (pid 1 of the new
    pid namespace): one process per solution, no intermediate.  Raw clone(2) through a
    ctypes call that keeps the GIL, then CPython's after-fork work in the child."""
    import ctypes
    if "clone" not in _PRIV:
        pydll = ctypes.PyDLL(None, use_errno=True)
        pydll.syscall.restype = ctypes.c_long
        _PRIV["clone"] = pydll.syscall
        _PRIV["after_fork"] = ctypes.pythonapi.PyOS_AfterFork_Child
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | 17           # SIGCHLD
    pid = _PRIV["clone"](56, flags, 0, 0, 0, 0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone: " + os.strerror(ctypes.get_errno()))
    if pid == 0:
        _PRIV["after_fork"]()
    return pid


J_QUIT = 64      # J's exit status when the host ended the sandbox (Q) instead of a job


def _solution_process(ctx):
    """J, cloned into its own namespaces *ahead* of its solution: fresh tmpfs everywhere,
    its own /proc, then it waits for the job (the supervisor does not read the channel
    while a J lives).  Never returns."""
    code = 70
    try:
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        fresh_tmpfs(ctx["box"], ctx["box_bytes"], mode="0755", over=True)
        fresh_tmpfs(ctx["judge"], ctx["judge_bytes"], mode="0755",
                    flags=MS_NOSUID | MS_NODEV | MS_NOEXEC, over=True)
        # read-only for this mount (not the filesystem: J makes it writable per test files)
        mount(None, ctx["judge"], None,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        fresh_tmpfs(ctx["tmp"], ctx["tmp_bytes"], over=True)
        # /dev read-only; /dev/shm a small tmpfs of this solution's own (emptied per test)
        fresh_tmpfs("/dev/shm", ctx["shm_bytes"], over=True)
        mount(None, "/dev", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC)
        mount("proc", "/proc", "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "hidepid=2")
        zygote = fork_zygote(ctx)      # most jobs are stdin-mode Python
        kind, payload = read_frame()
        if kind == b"Q":
            os._exit(J_QUIT)
        if kind != b"H":
            raise ValueError("expected a job header, got %r" % kind)
        runner = Runner(ctx, json.loads(payload), zygote)
        runner.scrubbed.update((ctx["tmp"], "/dev/shm"))
        runner.run()
        code = 0
    except EOFError:
        code = 3
    except BaseException as e:  # noqa: BLE001
        try:
            emit({"ev": "fatal", "message": ("%s: %s" % (type(e).__name__, e))[:2000]})
        except BaseException:
            pass
        code = 71
    os._exit(code)


def serve(ctx):
    """The supervisor loop: one job at a time, until Q or the host closes the channel.

    With namespaces the next solution's J is cloned (namespaces, mounts, /proc) as soon as
    the previous one is reaped, so that work overlaps the host's; J itself reads the job.
    The first J waits for the host's go (G): the host moves the supervisor into its cgroup
    after hello, and every J must be born inside it."""
    emit({"ev": "hello", "pid": os.getpid(), "seccomp": bool(ctx["seccomp"]),
          "ns": ctx["ns"]})
    if not ctx["ns"]:
        try:
            kind, payload = read_frame()
        except EOFError:
            return
        if kind != b"H":
            if kind != b"Q":
                emit({"ev": "fatal", "message": "expected a job header"})
            return
        try:
            Runner(ctx, json.loads(payload)).run()
        except EOFError:
            pass
        return        # one job per process without namespaces
    try:
        kind, _ = read_frame()
    except EOFError:
        return
    if kind != b"G":
        if kind != b"Q":
            emit({"ev": "fatal", "message": "expected go"})
        return
    while True:
        pid = clone_into_namespaces()
        if pid == 0:
            _solution_process(ctx)
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == J_QUIT:
            return
        if status != 0:
            # J died without finishing its job: the host's stream may be mid-frame, so this
            # sandbox cannot take another job.
            emit({"ev": "aborted", "status": os.waitstatus_to_exitcode(status)})
            return
        # J (init of the solution's pid namespace) has been reaped, so every process of
        # the solution is gone (the kernel waits for them before init's exit completes).
        emit({"ev": "idle"})


def main():
    os.dup2(0, IN_FD)
    os.dup2(1, OUT_FD)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)   # no ptrace, no /proc/<us>/fd for anyone
    import importlib
    import socket  # noqa: F401  (J's zygote channel: imported once here, not per solution)
    for name in PREIMPORT:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    ctx = json.loads(sys.argv[1])
    if ctx.get("pylib"):
        sys.path.append(ctx["pylib"])
    ctx["seccomp"] = build_seccomp() if ctx.get("seccomp", True) else None
    prepare_privileges(ctx["seccomp"])
    if ctx["ns"]:
        restrict_capability_inheritance()
    import gc
    gc.collect()
    gc.freeze()     # children's garbage collections then never touch (copy) these pages
    if not ctx["ns"]:
        libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)   # orphans come back to us
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    serve(ctx)


if __name__ == "__main__":
    main()
