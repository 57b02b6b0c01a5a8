"""A disk cache of generated gradients, safe to share between processes.

A new process that finds its gradient here gets a callable without running the
compiler: the entry holds the generated source and the bindings it needs (NumPy,
runtime helpers, the user's closure cells), and is recompiled with the standard
library alone -- this module must never import gast, astor or the passes.

Safety, because loading an entry executes code:

* the directory (``$S2SGRAD_CACHE_DIR``, else ``$XDG_CACHE_HOME/s2sgrad``, else
  ``~/.cache/s2sgrad``) must belong to the current user and must not be group- or
  world-writable; otherwise it is ignored with a :class:`CacheWarning`.  Entry
  files are checked the same way.  ``S2SGRAD_NO_CACHE=1`` turns the cache off.
* entries are written to a temporary file and renamed into place (atomic), and
  carry a SHA-256 of their payload: a truncated or corrupted entry is detected,
  removed and regenerated.
* the key covers everything the generated code depends on: the function's source
  and code, what the global and closure names it reads refer to (recursively for
  the user's own helper functions), user-registered derivative rules, the options
  (mode, wrt, argument signature), the s2sgrad version and files, NumPy's version
  and the Python version.  The full key is stored in the entry and compared on
  load, so a hash collision cannot serve a wrong gradient either.
"""
from __future__ import annotations

import ast
import inspect
import json
import linecache
import os
import stat as _stat
import sys
import types
import warnings
from typing import Any, Callable, Dict, Hashable, List, Optional, Tuple

import numpy

from s2sgrad import runtime
from s2sgrad.version import __version__

try:   # the built-in SHA-256 imports faster than hashlib (which loads OpenSSL)
    from _sha2 import sha256 as _sha256  # Python >= 3.12
except ImportError:
    try:
        from _sha256 import sha256 as _sha256
    except ImportError:   # pragma: no cover
        from hashlib import sha256 as _sha256

# 2: the package's layout in subpackages (api/, front/, ad/, ...): an entry written by an
# earlier layout may name module paths that no longer exist.
FORMAT = 2
_MAGIC = "s2sgrad-cache"


class CacheWarning(UserWarning):
    """The disk cache was ignored (unsafe directory) or an entry was discarded."""


class CachedGradient:
    """A gradient loaded from disk; has the attributes api/gradient.py reads from ``Generated``."""

    __slots__ = ("source", "function", "name", "specialized", "dynamic")

    def __init__(self, source: str, function: Any, name: str, specialized: bool,
                 dynamic: tuple = ()):
        self.source = source
        self.function = function
        self.name = name
        self.specialized = specialized
        self.dynamic = dynamic


# ---------------------------------------------------------------------------
# Where the cache lives, and whether it may be trusted


def cache_dir() -> Optional[str]:
    """The cache directory in use, or None when the cache is disabled."""
    if os.environ.get("S2SGRAD_NO_CACHE", "") not in ("", "0"):
        return None
    path = os.environ.get("S2SGRAD_CACHE_DIR")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
        path = os.path.join(base, "s2sgrad")
    return path


_warned: set = set()
_trusted: Dict[str, Tuple[int, int, int]] = {}   # path -> (st_dev, st_ino, st_mode)


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, CacheWarning, stacklevel=4)


def _unsafe_reason(st: os.stat_result) -> Optional[str]:
    getuid = getattr(os, "getuid", None)
    if getuid is not None and st.st_uid != getuid():
        return "it belongs to another user (uid %d)" % st.st_uid
    if st.st_mode & 0o022:
        return "it is group- or world-writable (mode %o)" % (st.st_mode & 0o777)
    return None


def _usable_dir(create: bool) -> Optional[str]:
    """The cache directory if it exists (or was created) and is safe, else None."""
    path = cache_dir()
    if path is None:
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            return None
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
            st = os.stat(path)
        except OSError as exc:
            _warn_once("mkdir:" + path, "s2sgrad: cannot create the cache directory %s (%s); "
                                        "the disk cache is off" % (path, exc))
            return None
    except OSError:
        return None
    if not _stat.S_ISDIR(st.st_mode):
        _warn_once("unsafe:" + path, "s2sgrad: ignoring the cache directory %s: it is not a "
                                     "directory" % path)
        return None
    reason = _unsafe_reason(st)
    if reason is not None:
        _warn_once("unsafe:" + path,
                   "s2sgrad: ignoring the cache directory %s: %s, so another user could plant "
                   "code in it. Fix it with `chmod 700 %s` (as its owner), or point "
                   "S2SGRAD_CACHE_DIR at a private directory; S2SGRAD_NO_CACHE=1 turns the "
                   "disk cache off" % (path, reason, path))
        return None
    return path


# ---------------------------------------------------------------------------
# The key


_compiler_fingerprint: Optional[str] = None


def compiler_fingerprint() -> str:
    """s2sgrad's version plus size and mtime of every module of the package.

    Editing the compiler (a rule, a pass) therefore invalidates every entry, so a
    development checkout never serves code an older compiler generated.
    """
    global _compiler_fingerprint
    if _compiler_fingerprint is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # s2sgrad/
        parts = [__version__]
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py"):
                    p = os.path.join(dirpath, name)
                    st = os.stat(p)
                    parts.append("%s:%d:%d" % (os.path.relpath(p, root), st.st_size,
                                               st.st_mtime_ns))
        _compiler_fingerprint = _sha256("\n".join(parts).encode()).hexdigest()
    return _compiler_fingerprint


class Uncacheable(Exception):
    """The function depends on something the key cannot describe."""


_LIB_ROOTS = frozenset(["builtins", "math", "cmath", "operator", "functools", "itertools",
                        "numbers", "collections", "typing", "abc", "copy", "random"])


def _is_library(obj: Any) -> Optional[str]:
    """'root==version' when obj comes from an installed library or the stdlib."""
    if isinstance(obj, types.ModuleType):
        module = obj.__name__
    else:
        module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        return None
    root = module.split(".")[0]
    if root in _LIB_ROOTS:
        return root
    mod = sys.modules.get(root)
    if mod is None:
        return None
    version = getattr(mod, "__version__", None)
    if isinstance(version, str):
        return "%s==%s" % (root, version)
    return None


def _code_fingerprint(code: types.CodeType, out: List[str]) -> None:
    out.append("code %s %d %s" % (code.co_name, code.co_firstlineno,
                                  _sha256(code.co_code).hexdigest()))
    out.append("names %r vars %r free %r cell %r" % (code.co_names, code.co_varnames,
                                                      code.co_freevars, code.co_cellvars))
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _code_fingerprint(c, out)
        elif isinstance(c, frozenset):
            out.append("const frozenset %r" % sorted(repr(v) for v in c))
        else:
            out.append("const %s %r" % (type(c).__name__, c))


def _all_names(code: types.CodeType, acc: set) -> set:
    acc.update(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _all_names(c, acc)
    return acc


def _unwrap(fn: Callable) -> Callable:
    seen = set()
    while hasattr(fn, "__wrapped__") and id(fn) not in seen:
        seen.add(id(fn))
        fn = fn.__wrapped__
    return fn


def _describe(value: Any, names: set, seen: Dict[int, None], out: List[str], depth: int) -> str:
    """A deterministic description of what a global or closure value means to the compiler."""
    if depth > 6:
        raise Uncacheable("values nested too deeply")
    t = type(value)
    if value is None or t in (bool, int, float, complex, str, bytes):
        return "%s:%r" % (t.__name__, value)
    if isinstance(value, numpy.ndarray):
        return "ndarray:%r:%s" % (value.shape, value.dtype.str)
    if isinstance(value, numpy.generic):
        return "scalar:%s:%r" % (value.dtype.str, value.item())
    if isinstance(value, types.ModuleType):
        desc = "module:%s" % value.__name__
        lib = _is_library(value)
        if lib is None:
            # A module of the user's: what it provides under the names we read.
            members = []
            for n in sorted(names):
                if n in vars(value):
                    members.append("%s=%s" % (n, _describe(vars(value)[n], names, seen, out,
                                                           depth + 1)))
            desc += "{%s}" % ",".join(members)
        else:
            desc += "@" + lib
        return desc
    if isinstance(value, (tuple, list)):
        if len(value) > 64:
            return "%s:len=%d" % (t.__name__, len(value))
        return "%s[%s]" % (t.__name__, ",".join(_describe(v, names, seen, out, depth + 1)
                                                 for v in value))
    if t is dict:
        if len(value) > 64:
            raise Uncacheable("a large dict")
        items = sorted((_describe(k, names, seen, out, depth + 1),
                        _describe(v, names, seen, out, depth + 1)) for k, v in value.items())
        return "dict{%s}" % ",".join("%s:%s" % kv for kv in items)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    lib = _is_library(value)
    if isinstance(value, types.FunctionType) and lib is None:
        fn = _unwrap(value)
        if not isinstance(fn, types.FunctionType):
            raise Uncacheable("a wrapped callable")
        ident = "function:%s.%s" % (fn.__module__, fn.__qualname__)
        if id(fn) not in seen:
            seen[id(fn)] = None
            _function_fingerprint(fn, out, seen, depth + 1)
        return ident
    if callable(value) and qualname is not None:
        if lib is not None:
            return "lib:%s:%s.%s" % (lib, getattr(value, "__module__", "?"), qualname)
        if isinstance(value, type):
            return "class:%s.%s" % (value.__module__, qualname)
        if isinstance(value, (types.BuiltinFunctionType, numpy.ufunc)):
            return "builtin:%s.%s" % (getattr(value, "__module__", "?"), qualname)
    # Any other object: its type is what a rule lookup can see, plus the attributes
    # the function reads (their shapes may be baked into the generated code).
    desc = "object:%s.%s" % (t.__module__, t.__qualname__)
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict):
        members = ["%s=%s" % (n, _describe(attrs[n], names, seen, out, depth + 1))
                   for n in sorted(names) if n in attrs]
        desc += "{%s}" % ",".join(members)
    return desc


_file_digests: Dict[str, Tuple[Any, str]] = {}


def _file_digest(filename: str) -> str:
    """SHA-256 of the whole source file the function was defined in.

    The whole file rather than the function's lines: ``inspect.getsourcelines``
    costs milliseconds (it compiles tokenizer regexes), and any edit of the file
    giving a fresh key errs on the safe side."""
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)
    if not lines:
        raise Uncacheable("no source")
    memo = _file_digests.get(filename)
    if memo is not None and memo[0] is lines:
        return memo[1]
    digest = _sha256("".join(lines).encode("utf-8", "surrogatepass")).hexdigest()
    _file_digests[filename] = (lines, digest)
    return digest


def _function_fingerprint(fn: types.FunctionType, out: List[str], seen: Dict[int, None],
                          depth: int = 0) -> None:
    filename = fn.__code__.co_filename
    out.append("def %s.%s %s:%d" % (fn.__module__, fn.__qualname__, filename,
                                    fn.__code__.co_firstlineno))
    out.append("file " + _file_digest(filename))
    _code_fingerprint(fn.__code__, out)
    names = _all_names(fn.__code__, set())
    g = fn.__globals__
    builtins_ = g.get("__builtins__", {})
    if isinstance(builtins_, types.ModuleType):
        builtins_ = vars(builtins_)
    for n in sorted(names):
        if n in g:
            out.append("global %s=%s" % (n, _describe(g[n], names, seen, out, depth)))
        elif n in builtins_:
            out.append("builtin %s=%s" % (n, _describe(builtins_[n], names, seen, out, depth)))
    if fn.__closure__:
        for n, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                v = cell.cell_contents
            except ValueError:
                out.append("cell %s=<empty>" % n)
                continue
            out.append("cell %s=%s" % (n, _describe(v, names, seen, out, depth)))
    if fn.__defaults__:
        out.append("defaults %s" % _describe(list(fn.__defaults__), names, seen, out, depth))
    if fn.__kwdefaults__:
        out.append("kwdefaults %s" % _describe(sorted(fn.__kwdefaults__.items()), names,
                                               seen, out, depth))


def _user_rules() -> str:
    """Derivative rules registered outside s2sgrad (their templates are part of the key)."""
    registry = sys.modules.get("s2sgrad.rules.registry")
    if registry is None:
        return ""
    parts = []
    for family, label, rule in list(getattr(registry, "_ORDER", ())):
        fn = getattr(rule, "fn", None)
        if not isinstance(fn, types.FunctionType):
            continue   # a constant (non-differentiable) entry: its label says it all
        module = getattr(fn, "__module__", "") or ""
        if module.startswith("s2sgrad"):
            continue
        try:
            src = "".join(inspect.getsourcelines(fn)[0])
        except (OSError, TypeError):
            raise Uncacheable("a user rule without source") from None
        parts.append("%s %s %s" % (family, label, _sha256(src.encode()).hexdigest()))
    return "\n".join(parts)


def _describe_options(options: Hashable) -> str:
    def one(v):
        if isinstance(v, tuple):
            return "(" + "".join(one(x) + "," for x in v) + ")"
        if isinstance(v, type):
            return "type:%s.%s" % (v.__module__, v.__qualname__)
        if isinstance(v, numpy.dtype):
            return "dtype:" + v.str
        if v is None or isinstance(v, (bool, int, str, float)):
            return repr(v)
        raise Uncacheable("option %r" % (v,))
    return one(options)


def _classes_in(options) -> List[type]:
    found: Dict[type, None] = {}

    def walk(v):
        if isinstance(v, tuple):
            for x in v:
                walk(x)
        elif isinstance(v, type) and v.__module__ != "builtins" and _is_library(v) is None:
            found[v] = None
    walk(options)
    return list(found)


def key_material(fn: Callable, options: Hashable) -> str:
    """Everything the generated code depends on, as text (raises Uncacheable)."""
    fn = _unwrap(fn)
    if not isinstance(fn, types.FunctionType):
        raise Uncacheable("not a Python function")
    out = ["%s %d" % (_MAGIC, FORMAT),
           "python %s %s" % (sys.implementation.cache_tag, ".".join(map(str, sys.version_info[:3]))),
           "numpy %s" % numpy.__version__,
           "s2sgrad %s" % compiler_fingerprint(),
           "options %s" % _describe_options(options)]
    seen = {id(fn): None}
    _function_fingerprint(fn, out, seen)
    # the classes of the objects the signature names: their methods are inlined
    for cls in _classes_in(options):
        out.append("class %s.%s" % (cls.__module__, cls.__qualname__))
        for base in cls.__mro__:
            if _is_library(base) is not None or base.__module__ == "builtins":
                continue
            for name in sorted(vars(base)):
                member = vars(base)[name]
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, types.FunctionType) and id(member) not in seen:
                    seen[id(member)] = None
                    _function_fingerprint(member, out, seen)
    rules = _user_rules()
    if rules:
        out.append("rules\n" + rules)
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Loading and storing


def _entry_path(directory: str, fn: Callable, material: str) -> str:
    digest = _sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    name = "".join(c if c.isalnum() or c == "_" else "_"
                   for c in getattr(fn, "__name__", "f"))[:40]
    return os.path.join(directory, "%s-%s.s2s" % (name, digest))


def _discard(path: str, why: str) -> None:
    _warn_once("bad:" + path, "s2sgrad: discarding the cache entry %s (%s); it will be "
                              "regenerated" % (path, why))
    try:
        os.unlink(path)
    except OSError:
        pass


def _specialized(options: Hashable) -> bool:
    # api/gradient.py's keys end with the argument signature; None means "no call seen yet"
    # (the generic ``.source``), which is cheap to regenerate and not worth a file.
    return isinstance(options, tuple) and bool(options) and options[-1] is not None


stats = {"loads": 0, "stores": 0, "misses": 0}


def load(fn: Callable, options: Hashable) -> Optional[CachedGradient]:
    """The cached gradient of ``fn`` for ``options``, or None (miss, disabled, unsafe)."""
    if not _specialized(options):
        return None
    directory = _usable_dir(create=False)
    if directory is None:
        return None
    try:
        material = key_material(fn, options)
    except Uncacheable:
        return None
    path = _entry_path(directory, fn, material)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        stats["misses"] += 1
        return None
    try:
        st = os.fstat(fd)
        reason = _unsafe_reason(st)
        if reason is not None:
            _warn_once("unsafe:" + path, "s2sgrad: ignoring the cache entry %s: %s"
                                         % (path, reason))
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read()
    finally:
        if fd >= 0:
            os.close(fd)
    entry = _parse_entry(data)
    if entry is None:
        _discard(path, "corrupted or truncated: its checksum does not match")
        return None
    if entry.get("key") != material:
        return None   # a hash collision, or an entry written by a different key scheme
    try:
        hit = _instantiate(_unwrap(fn), entry)
    except Exception as exc:   # a malformed entry must never break the user's program
        _discard(path, "cannot be compiled: %s" % exc)
        return None
    stats["loads"] += 1
    return hit


def _parse_entry(data: bytes) -> Optional[dict]:
    header, sep, payload = data.partition(b"\n")
    if not sep:
        return None
    parts = header.decode("ascii", "replace").split(" ")
    if len(parts) != 3 or parts[0] != _MAGIC or parts[1] != str(FORMAT):
        return None
    if _sha256(payload).hexdigest() != parts[2]:
        return None
    try:
        entry = json.loads(payload.decode("utf-8", "surrogatepass"))
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _binding(spec) -> Any:
    kind, name = spec[0], spec[1]
    if kind == "numpy" and name == "numpy":
        return numpy
    if kind == "runtime" and name in runtime.__all__:
        return getattr(runtime, name)
    if kind in ("module", "object"):
        # only modules this process has already imported: loading never imports code
        module = sys.modules.get(name)
        if module is None:
            raise ValueError("module %r is not imported" % name)
        if kind == "module":
            return module
        value = getattr(module, spec[2], None)
        if value is None:
            raise ValueError("%s.%s is gone" % (name, spec[2]))
        return value
    raise ValueError("unknown binding %r" % (spec,))


def _instantiate(fn: types.FunctionType, entry: dict) -> CachedGradient:
    closure = {}
    if fn.__closure__:
        closure = dict(zip(fn.__code__.co_freevars, fn.__closure__))
    extra = {}
    for var, spec in entry["bindings"].items():
        if spec == ["closure"]:
            if var not in closure:
                raise ValueError("closure variable %r is gone" % var)
        else:
            extra[var] = _binding(spec)
    function = compile_function(entry["source"], entry["name"], fn.__globals__, closure, extra,
                                entry["filename"])
    function.__doc__ = entry.get("doc")
    return CachedGradient(entry["source"], function, entry["name"], bool(entry["specialized"]),
                          tuple(int(k) for k in entry.get("dynamic", ())))


def compile_function(source: str, name: str, globals_: Dict[str, Any],
                     closure: Dict[str, Any], extra: Dict[str, Any], filename: str):
    """Same as ``emit.compile_function`` (which imports the printer): one ``def`` bound
    to the user's globals, closure cells and our extra names as closure cells."""
    free = list(closure) + [k for k in extra if k not in closure]
    header = "def __s2sgrad_factory__(%s):\n" % ", ".join(free)
    body = "".join("    " + line + "\n" if line else "\n" for line in source.splitlines())
    body += "    return %s\n" % name
    tree = ast.parse(header + body, filename)
    ast.increment_lineno(tree, -1)
    code = compile(tree, filename, "exec")
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    inner = next(c for c in factory_code.co_consts
                 if isinstance(c, types.CodeType) and c.co_name == name)
    cells = []
    for var in inner.co_freevars:
        cells.append(closure[var] if var in closure else types.CellType(extra[var]))
    function = types.FunctionType(inner, globals_, name, None, tuple(cells))
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return function


def _bindings_of(fn: types.FunctionType, function: Any) -> Optional[Dict[str, list]]:
    """How to rebuild the generated function's closure; None if we cannot say."""
    closure = {}
    if fn.__closure__:
        closure = dict(zip(fn.__code__.co_freevars, fn.__closure__))
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    out: Dict[str, list] = {}
    for var, cell in zip(code.co_freevars, function.__closure__ or ()):
        if closure.get(var) is cell:
            out[var] = ["closure"]
            continue
        try:
            value = cell.cell_contents
        except ValueError:
            return None
        if value is numpy:
            out[var] = ["numpy", "numpy"]
        elif getattr(value, "__name__", None) in runtime.__all__ and \
                getattr(runtime, value.__name__) is value:
            out[var] = ["runtime", value.__name__]
        elif isinstance(value, types.ModuleType) and sys.modules.get(value.__name__) is value:
            out[var] = ["module", value.__name__]      # another module (inlined helpers)
        elif callable(value) and isinstance(getattr(value, "__module__", None), str) and \
                getattr(sys.modules.get(value.__module__), getattr(value, "__name__", ""),
                        None) is value:
            out[var] = ["object", value.__module__, value.__name__]
        else:
            return None
    return out


_FIELDS = ("source", "function", "name", "specialized", "dynamic")


def store(fn: Callable, options: Hashable, generated: Any) -> Optional[str]:
    """Write ``generated`` to the cache (atomically); returns the entry path or None."""
    if not _specialized(options):
        return None
    try:
        import dataclasses  # only to store an entry: a warm start does not pay for it
        if dataclasses.is_dataclass(generated):
            if tuple(f.name for f in dataclasses.fields(generated)) != _FIELDS:
                return None   # a result type this cache does not know how to rebuild
        elif not isinstance(generated, CachedGradient):
            return None
        directory = _usable_dir(create=True)
        if directory is None:
            return None
        material = key_material(fn, options)
        target = _unwrap(fn)
        bindings = _bindings_of(target, generated.function)
        if bindings is None:
            return None
        function = generated.function
        entry = {"key": material, "source": generated.source, "name": generated.name,
                 "specialized": bool(generated.specialized),
                 "dynamic": [int(k) for k in getattr(generated, "dynamic", ())],
                 "filename": function.__code__.co_filename,
                 "doc": function.__doc__, "bindings": bindings}
        payload = json.dumps(entry, sort_keys=True).encode("utf-8", "surrogatepass")
        data = ("%s %d %s\n" % (_MAGIC, FORMAT, _sha256(payload).hexdigest())).encode() \
            + payload
        path = _entry_path(directory, fn, material)
        import tempfile  # only to store an entry: a warm start does not pay for it
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".s2s", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)   # no fsync: a torn entry fails its checksum
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        stats["stores"] += 1
        if stats["stores"] % 64 == 1:
            _evict(directory)
        return path
    except Uncacheable:
        return None
    except OSError as exc:
        _warn_once("write:" + str(cache_dir()),
                   "s2sgrad: cannot write to the cache directory (%s); continuing without "
                   "the disk cache" % exc)
        return None


MAX_ENTRIES = 4096


def _evict(directory: str) -> None:
    """Keep the directory bounded: past MAX_ENTRIES, drop the least recently written half."""
    try:
        names = [n for n in os.listdir(directory) if n.endswith(".s2s")]
        if len(names) <= MAX_ENTRIES:
            return
        paths = [os.path.join(directory, n) for n in names]
        paths.sort(key=lambda p: os.stat(p).st_mtime_ns)
        for p in paths[:len(paths) // 2]:
            os.unlink(p)
    except OSError:
        pass


def clear() -> int:
    """Remove every entry of the cache directory; returns how many were removed."""
    directory = _usable_dir(create=False)
    if directory is None:
        return 0
    n = 0
    for name in os.listdir(directory):
        if name.endswith(".s2s"):
            try:
                os.unlink(os.path.join(directory, name))
                n += 1
            except OSError:
                pass
    return n
