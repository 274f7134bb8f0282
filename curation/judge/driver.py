#!/usr/bin/env python3
"""Pre-forked test driver: runs INSIDE the sandbox with the system Python (stdlib only).

It is started once per (solution, batch of tests).  For every test it forks a fresh
child, applies the per-test rlimits in the child, runs the solution (``exec`` of a
binary/interpreter, or -- for Python -- the pre-compiled code object directly in the
forked child, which skips interpreter start-up), enforces the wall-clock limit and the
output cap, measures CPU time and peak RSS with ``wait4`` and reports one JSON line per
test on the result channel (its original stdout).  Every test runs in a freshly forked
child of a pristine driver, so no state leaks between tests; after each test every other
process of the sandbox is killed (``kill(-1)`` inside the PID namespace) and the scratch
directory is wiped.

The host never executes anything this process says: it only parses JSON.

This module is also imported by the host (``curation.judge.functional``) for the
argument parser and value encoder, so importing it must have no side effects.
"""
import json
import os
import select
import signal
import sys
import time

RESULT_FD = 200          # the driver's private copy of its result channel
FUNC_RESULT_FD = 3       # in functional mode the child reports its return value here

CHILD_ENV_DEFAULT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}

# Modules imported once in the driver so that forked children find them in sys.modules.
PREIMPORT = (
    "io", "math", "cmath", "random", "re", "string", "collections", "heapq", "bisect",
    "itertools", "functools", "operator", "typing", "fractions", "decimal", "array",
    "copy", "datetime", "statistics", "traceback", "threading", "queue", "dataclasses",
    "enum", "numbers",
)


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
# Child side
# ----------------------------------------------------------------------------------
def _set_rlimits(lim):
    import resource
    def setl(res, val):
        try:
            resource.setrlimit(res, (val, val))
        except (ValueError, OSError):
            pass
    cpu = lim["cpu_s"]
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    except (ValueError, OSError):
        pass
    setl(resource.RLIMIT_AS, lim["as_bytes"])
    setl(resource.RLIMIT_STACK, lim["stack_bytes"])
    setl(resource.RLIMIT_FSIZE, lim["fsize_bytes"])
    setl(resource.RLIMIT_NOFILE, lim["nofile"])
    setl(resource.RLIMIT_CORE, 0)
    if lim.get("nproc"):
        setl(resource.RLIMIT_NPROC, lim["nproc"])


def _tree_node(values):
    from collections import deque
    ns = _PRELUDE_NS
    TreeNode = ns.get("TreeNode")
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


def _child_python(job, test, codes):
    """Run the solution in this forked child (no exec).  Never returns."""
    import traceback
    rc = 0
    g = ns_func = None
    try:
        try:
            import ctypes
            ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)   # PR_SET_DUMPABLE=1 (own /proc)
        except Exception:
            pass
        src = job["source"]
        sys.argv = list(test.get("argv") or [src])
        sys.path.insert(0, os.path.dirname(src) or ".")
        if job["mode"] == "functional":
            ns = ns_func = {"__name__": "solution", "__builtins__": __builtins__}
            if codes.get("prelude") is not None:
                exec(codes["prelude"], ns)
                _PRELUDE_NS.update(ns)
            exec(codes["solution"], ns)
            if "ListNode" in ns:
                _PRELUDE_NS["ListNode"] = ns["ListNode"]
            if "TreeNode" in ns:
                _PRELUDE_NS["TreeNode"] = ns["TreeNode"]
            fn = _resolve_entry(ns, job["entry"])
            args, kwargs = parse_args(test["args"])
            args, kwargs = _convert_args(fn, args, kwargs)
            result = fn(*args, **kwargs)
            if result is None and _returns_node(fn):
                result = []          # LeetCode serialises an empty list/tree as []
            try:
                text = str(result)
            except Exception:
                text = ""
            payload = json.dumps({"value": encode_value(result), "text": text[:1 << 20]})
            data = payload.encode()
            if len(data) > job["limits"]["output_bytes"]:
                data = b'{"too_big": true}'
            view = memoryview(data)
            while view:
                n = os.write(FUNC_RESULT_FD, view)
                view = view[n:]
            os.close(FUNC_RESULT_FD)
        else:
            g = {"__name__": "__main__", "__file__": src, "__builtins__": __builtins__,
                 "__spec__": None, "__doc__": None}
            exec(codes["solution"], g)
    except SystemExit as e:
        code = e.code
        if code is None:
            rc = 0
        elif isinstance(code, int):
            rc = code & 0xFF
        else:
            try:
                sys.stderr.write(str(code) + "\n")
            except Exception:
                pass
            rc = 1
    except BaseException:
        try:   # the last frames only: a 10^6-deep traceback would take ages to format
            traceback.print_exc(limit=-20)
        except BaseException:
            pass
        rc = 1
    # Interpreter shutdown in CPython's order (Py_FinalizeEx): join threads, run atexit
    # callbacks (many solutions flush an output buffer there), flush the standard
    # streams, tear the module down, flush the standard streams again.
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
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException:
            rc = rc or 120
    # Module teardown: IOBase finalizers close() -> flush() user stream wrappers (the
    # common "FastIO" template only writes its buffer then).  Do it while the module's
    # globals still exist, as CPython's finalizer effectively does.
    import io
    std = {id(x) for x in (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__,
                           sys.__stdout__, sys.__stderr__)}
    for ns in (g, ns_func):
        for v in list((ns or {}).values()):
            if isinstance(v, io.IOBase) and id(v) not in std:
                try:
                    v.close()
                except BaseException:
                    pass
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except BaseException:
            rc = rc or 120
    os._exit(rc)


def _child(job, test, codes, fds):
    """Forked child: wire fds, apply limits, run.  Never returns."""
    try:
        os.setsid()
        stdin_fd = os.open(test["input"], os.O_RDONLY) if test.get("input") else os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin_fd, 0)
        os.dup2(fds["out"], 1)
        os.dup2(fds["err"], 2)
        keep = 3
        if fds.get("res") is not None:
            os.dup2(fds["res"], FUNC_RESULT_FD)
            keep = 4
        os.closerange(keep, 65536)
        os.chdir(job["cwd"])
        os.umask(0o022)
        _set_rlimits(job["limits"])
        if job["kind"] == "exec":
            for s in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGXCPU):
                signal.signal(s, signal.SIG_DFL)
            argv = test.get("argv") or job["argv"]
            os.execve(argv[0], argv, job.get("env") or CHILD_ENV_DEFAULT)
        else:
            signal.signal(signal.SIGXCPU, signal.SIG_DFL)
            _child_python(job, test, codes)
    except BaseException as e:  # noqa: BLE001
        try:
            os.write(2, ("judge: cannot start: %r\n" % (e,)).encode())
        except BaseException:
            pass
    os._exit(127)


# ----------------------------------------------------------------------------------
# Parent side
# ----------------------------------------------------------------------------------
def _emit(obj):
    data = (json.dumps(obj) + "\n").encode()
    view = memoryview(data)
    while view:
        n = os.write(RESULT_FD, view)
        view = view[n:]


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


def _pump(fd, poller, open_fds, bufs, caps):
    """Read what a ready pipe holds into its capped buffer; forget the pipe at EOF.
    Returns True when data past the cap was dropped."""
    try:
        data = os.read(fd, 1 << 16)
    except OSError:
        data = b""
    if not data:
        poller.unregister(fd)
        open_fds.discard(fd)
        return False
    buf = bufs[fd]
    room = caps[fd] - len(buf)
    if len(data) > room:
        buf += data[:max(room, 0)]
        return True
    buf += data
    return False


def _run_one(job, test, codes):
    lim = job["limits"]
    out_cap, err_cap = lim["output_bytes"], lim["stderr_bytes"]
    func = job["kind"] == "python" and job["mode"] == "functional"
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r = res_w = None
    if func:
        res_r, res_w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        if res_r is not None:
            os.close(res_r)
        _child(job, test, codes, {"out": out_w, "err": err_w, "res": res_w})
    for fd in (out_w, err_w, res_w):
        if fd is not None:
            os.close(fd)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    bufs = {out_r: bytearray(), err_r: bytearray()}
    if res_r is not None:
        bufs[res_r] = bytearray()
    caps = {out_r: out_cap, err_r: err_cap, res_r: lim["output_bytes"] + 64}
    poller = select.poll()
    for fd in bufs:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    open_fds = set(bufs)
    deadline = t0 + lim["wall_s"]
    timed_out = ole = exited = False
    status = ru = None
    while True:
        now = time.monotonic()
        if now >= deadline:
            timed_out = True
            break
        if pidfd is None:
            wpid, st, r = os.wait4(pid, os.WNOHANG)
            if wpid:
                exited, status, ru = True, st, r
                break
            timeout = min(deadline - now, 0.01)
        else:
            timeout = deadline - now
        for fd, ev in poller.poll(max(1, int(timeout * 1000))):
            if fd == pidfd:
                exited = True
                continue
            if _pump(fd, poller, open_fds, bufs, caps) and fd == out_r:
                ole = True
        if exited or ole:
            break
    wall = time.monotonic() - t0
    # Kill the child's session and, inside the sandbox, every other process.
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if exited and status is None:
        _, status, ru = os.wait4(pid, 0)
    elif status is None:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        _, status, ru = os.wait4(pid, 0)
    if job.get("sweep"):
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        try:   # reap anything that was ours
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
    # Drain what is left in the pipes (writers are dead; bounded in time anyway).
    drain_deadline = time.monotonic() + 0.2
    while open_fds and time.monotonic() < drain_deadline:
        for fd, ev in poller.poll(50):
            if fd == pidfd:
                continue
            if _pump(fd, poller, open_fds, bufs, caps) and fd == out_r:
                ole = True
    for fd in list(bufs) + ([pidfd] if pidfd is not None else []):
        try:
            os.close(fd)
        except OSError:
            pass
    if job.get("scratch"):
        _wipe(job["scratch"])
    result = {
        "ev": "result", "i": test["i"],
        "wall": round(wall, 4),
        "cpu": round(ru.ru_utime + ru.ru_stime, 4),
        "mem_kb": ru.ru_maxrss,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": timed_out, "ole": ole,
        "stdout": bufs[out_r].decode("latin-1"),
        "stderr": bufs[err_r].decode("utf-8", "replace"),
    }
    if res_r is not None:
        result["func"] = bufs[res_r].decode("utf-8", "replace")
    return result


def main():
    os.dup2(1, RESULT_FD)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE=0: children cannot
    except Exception:                              # ptrace us or open /proc/<us>/fd
        pass
    with open(sys.argv[1]) as f:
        job = json.load(f)
    codes = {}
    if job.get("pylib"):
        sys.path.append(job["pylib"])
    if job["kind"] == "python":
        import importlib
        for name in PREIMPORT:
            try:
                importlib.import_module(name)
            except Exception:
                pass
        with open(job["source"], "rb") as f:
            src = f.read()
        try:
            codes["solution"] = compile(src, job["source"], "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as e:
            _emit({"ev": "compile_error", "message": "%s: %s" % (type(e).__name__, e)})
            return
        if job.get("prelude"):
            with open(job["prelude"], "rb") as f:
                codes["prelude"] = compile(f.read(), "<prelude>", "exec", dont_inherit=True)
    _emit({"ev": "ready"})
    for test in job["tests"]:
        _emit({"ev": "start", "i": test["i"]})
        _emit(_run_one(job, test, codes))
    _emit({"ev": "done"})


if __name__ == "__main__":
    main()
