"""Small helpers to build and inspect gast trees (no compiler logic here)."""
from __future__ import annotations

import ast
import copy
from typing import Iterable, List, Optional, Set

import gast


def parse(src: str, mode: str = "exec"):
    """``gast.parse(src, mode=mode)``: ``ast.parse``, then converted by ``to_gast``."""
    return to_gast(ast.parse(src, mode=mode))


def _gast_translator():
    from gast.ast3 import Ast3ToGAst
    return Ast3ToGAst()


# What gast's own converter does specially on this Python (``Ast3ToGAst``'s visitors):
# ``to_gast`` reproduces Name, arg and the type_params of definitions, and hands any
# other special case (ExceptHandler, and anything an other Python version adds) to it.
_TO_GAST_SPECIAL = frozenset(k[6:] for c in type(_gast_translator()).__mro__
                             for k in c.__dict__ if k.startswith("visit_")) - {"Constant"}
_TYPE_PARAMS = frozenset({"FunctionDef", "AsyncFunctionDef", "ClassDef"})
_FAST_SPECIAL = frozenset({"Name", "arg"}) | _TYPE_PARAMS
_GAST_OF = {}
_BARE = set()          # classes without fields or attributes (Load, Add, ...)


def to_gast(node):
    """``gast.ast_to_gast(node)``: the same gast tree (same fields, same source
    positions), built without gast's generic visitor (parsing is the first cost of
    every generation)."""
    cls = node.__class__
    target = _GAST_OF.get(cls)
    if target is None:
        name = cls.__name__
        target = getattr(gast, name, None)
        if target is None or (name in _TO_GAST_SPECIAL and name not in _FAST_SPECIAL) \
                or (name in _TYPE_PARAMS and tuple(target._fields) != tuple(
                    cls._fields) + ("type_params",)):
            return _gast_translator().visit(node)
        _GAST_OF[cls] = target
        if not cls._fields and not cls._attributes:
            _BARE.add(cls)
    new = target.__new__(target)
    if cls in _BARE:                   # contexts and operators: nothing to copy
        return new
    state = new.__dict__
    name = cls.__name__
    if name == "Name":
        state["id"] = node.id
        ctx = node.ctx
        state["ctx"] = _GAST_OF[ctx.__class__].__new__(_GAST_OF[ctx.__class__]) \
            if ctx.__class__ in _BARE else to_gast(ctx)
        state["annotation"] = None
        state["type_comment"] = None
        _copy_location(state, node)
        return new
    if name == "arg":
        new = gast.Name.__new__(gast.Name)
        state = new.__dict__
        state["id"] = node.arg
        state["ctx"] = gast.Param()
        state["annotation"] = None if node.annotation is None else to_gast(node.annotation)
        state["type_comment"] = node.type_comment
        _copy_location(state, node)
        return new
    old = node.__dict__
    for field in cls._fields:
        if field in old:
            value = old[field]
            if isinstance(value, _AST):
                value = to_gast(value)
            elif isinstance(value, list):
                value = _to_gast_list(value)
            state[field] = value
    if name in _TYPE_PARAMS:
        state["type_params"] = []
        _copy_location(state, node)
        return new
    for attr in cls._attributes:
        try:
            state[attr] = getattr(node, attr)
        except AttributeError:
            pass
    return new


def _to_gast_list(values):
    return [to_gast(v) if isinstance(v, _AST) else
            _to_gast_list(v) if isinstance(v, list) else v for v in values]


def _copy_location(state, old):
    """``ast.copy_location`` into a fresh node's ``__dict__``."""
    attributes = old._attributes
    for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        if attr in attributes:
            value = getattr(old, attr, None)
            if value is not None or (attr.startswith("end_") and hasattr(old, attr)):
                state[attr] = value


_PARSED = {}


def _parsed(src: str, mode: str):
    """A fresh copy of the parse of a compiler-written snippet (``np.zeros``)."""
    key = (src, mode)
    tree = _PARSED.get(key)
    if tree is None:
        tree = _PARSED[key] = parse(src, mode)
    return clone(tree)


def parse_expr(src: str) -> gast.expr:
    return _parsed(src, "eval").body


def parse_stmts(src: str) -> List[gast.stmt]:
    return _parsed(src, "exec").body


def parse_stmt(src: str) -> gast.stmt:
    (stmt,) = parse_stmts(src)
    return stmt


# The builders below fill the node's fields directly (what gast's constructor does
# with keywords, without its generic path: they make most of the compiler's nodes).
# Contexts are shared, as clone shares them: no pass edits one.
_LOAD_CTX, _STORE_CTX = gast.Load(), gast.Store()


def load(name: str) -> gast.Name:
    node = _NameClass.__new__(_NameClass)
    node.__dict__ = {"id": name, "ctx": _LOAD_CTX, "annotation": None, "type_comment": None}
    return node


def store(name: str) -> gast.Name:
    node = _NameClass.__new__(_NameClass)
    node.__dict__ = {"id": name, "ctx": _STORE_CTX, "annotation": None, "type_comment": None}
    return node


def const(value) -> gast.Constant:
    node = _ConstantClass.__new__(_ConstantClass)
    node.__dict__ = {"value": value, "kind": None}
    return node


def assign(target, value: gast.expr) -> gast.Assign:
    if isinstance(target, str):
        target = store(target)
    node = _AssignClass.__new__(_AssignClass)
    node.__dict__ = {"targets": [target], "value": value, "type_comment": None}
    return node


_NameClass, _ConstantClass, _AssignClass = gast.Name, gast.Constant, gast.Assign


def call(func, args=(), keywords=()) -> gast.Call:
    if isinstance(func, str):
        func = parse_expr(func)
    return gast.Call(func=func, args=list(args),
                     keywords=[gast.keyword(arg=k, value=v) for k, v in keywords])


_ATOMIC = frozenset({str, int, float, bool, complex, bytes, type(None), type(Ellipsis)})


# Contexts and operators: nodes without fields or attributes, never changed in place
# (a pass replaces a ``ctx`` or ``op``, it does not edit one), so a copy shares them.
_FIELDLESS = frozenset(c for c in vars(gast).values()
                       if isinstance(c, type) and issubclass(c, (gast.expr_context, gast.operator,
                                                                 gast.unaryop, gast.cmpop,
                                                                 gast.boolop)))


def clone(node, memo=None):
    """``copy.deepcopy(node)`` for gast trees (lists of nodes too), several times faster:
    the same copy (every attribute, shared nodes stay shared), without the generic
    ``__reduce_ex__`` protocol per node; contexts and operators are shared, not copied.
    Values other than nodes, lists and atoms are left to ``copy.deepcopy``."""
    cls = node.__class__
    if cls in _ATOMIC or cls in _FIELDLESS:
        return node
    if memo is None:
        memo = {}
    found = memo.get(id(node))
    if found is not None:
        return found
    if isinstance(node, _AST):
        new = cls.__new__(cls)
        memo[id(node)] = new
        state = new.__dict__
        for key, value in node.__dict__.items():
            state[key] = value if value.__class__ in _ATOMIC else clone(value, memo)
        return new
    if cls is list:
        new = []
        memo[id(node)] = new
        new.extend([item if item.__class__ in _ATOMIC else clone(item, memo)
                    for item in node])
        return new
    return copy.deepcopy(node, memo)


def as_load(node):
    """A deep copy of ``node`` with every context set to Load."""
    node = clone(node)
    for sub in walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = gast.Load()
    return node


def as_store(node):
    node = clone(node)
    if hasattr(node, "ctx"):
        node.ctx = gast.Store()
    if isinstance(node, (gast.Tuple, gast.List)):
        node.elts = [as_store(e) for e in node.elts]
    return node


_AST = gast.AST
_Name = gast.Name
_Constant = gast.Constant


# Fields that never hold a node, per class: skipped when looking for children.
_LEAF_FIELDS = {
    "Name": ("id", "type_comment"), "Constant": ("value", "kind"), "Attribute": ("attr",),
    "keyword": ("arg",), "FunctionDef": ("name", "type_comment"),
    "AsyncFunctionDef": ("name", "type_comment"), "ClassDef": ("name",),
    "alias": ("name", "asname"), "ImportFrom": ("module", "level"), "Global": ("names",),
    "Nonlocal": ("names",), "comprehension": ("is_async",), "AnnAssign": ("simple",),
    "FormattedValue": ("conversion",), "Assign": ("type_comment",), "For": ("type_comment",),
    "AsyncFor": ("type_comment",), "With": ("type_comment",), "AsyncWith": ("type_comment",),
    "Comment": ("text",),
}
_CHILD_FIELDS = {}


def _child_fields(cls):
    """The fields of ``cls`` that may hold nodes (cached per class)."""
    leaves = _LEAF_FIELDS.get(cls.__name__, ()) if cls.__module__ in (
        "gast.gast", "ast", "s2sgrad.back.emit") else ()
    fields = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f not in leaves)
    return fields


def walk(node):
    """Every node under ``node`` (itself included), breadth first: ``ast.walk``, in the
    same order, without its generator per node (the compiler's hottest loop)."""
    todo = [node]
    append = todo.append
    fields_of = _CHILD_FIELDS.get
    for n in todo:
        cls = n.__class__
        fields = fields_of(cls)
        if fields is None:
            fields = _child_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            if isinstance(value, _AST):
                append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, _AST):
                        append(item)
        yield n


# Leaf nodes that carry no names: contexts and operators.
_LEAF_NODES = (gast.expr_context, gast.operator, gast.unaryop, gast.cmpop, gast.boolop)
_SKIPPED_BY_STATEMENTS = (gast.expr,) + _LEAF_NODES


def nodes(node):
    """``walk(node)`` without the context and operator leaves (Load, Add, ...): the
    same nodes otherwise, in the same order, for scans that look for statements,
    names or calls.  (Those leaves sit only in the ``ctx``, ``op`` and ``ops`` fields,
    which it does not read.)  The nodes are listed before the first is given, so a
    scan may edit what it has seen."""
    return iter(node_list(node))


def statements(node):
    """Every statement under ``node``, in the order ``nodes(node)`` meets them, without
    entering expressions (no statement is ever inside one): for scans that look for
    assignments or returns."""
    todo = [node]
    append = todo.append
    fields_of = _NAME_FIELDS.get
    for n in todo:
        cls = n.__class__
        fields = fields_of(cls)
        if fields is None:
            fields = _name_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            if isinstance(value, _AST):
                if not isinstance(value, _SKIPPED_BY_STATEMENTS):
                    append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, _AST) and not isinstance(item, _SKIPPED_BY_STATEMENTS):
                        append(item)
        yield n


_DUMP_FIELDS = {}


def dump_key(node):
    """A hashable key equal for two trees exactly when their ``gast.dump`` is (the
    same fields skipped, leaves by ``repr``), built without formatting a string."""
    cls = node.__class__
    spec = _DUMP_FIELDS.get(cls)
    if spec is None:
        if cls is list:
            return ("[",) + tuple([dump_key(item) for item in node])
        if not isinstance(node, _AST):
            return repr(node)
        # (field, whether a None there is skipped: the class says None by default)
        spec = _DUMP_FIELDS[cls] = tuple((name, getattr(cls, name, 42) is None)
                                         for name in cls._fields)
    parts = [cls.__name__]
    append = parts.append
    for name, none_skipped in spec:
        try:
            value = getattr(node, name)
        except AttributeError:
            continue
        if value is None:
            if none_skipped:
                continue
            append(name)
            append("None")
            continue
        vcls = value.__class__
        if vcls is list:
            if not value:
                continue
            append(name)
            append(("[",) + tuple([dump_key(item) for item in value]))
        else:
            append(name)
            append(dump_key(value) if isinstance(value, _AST) else repr(value))
    return tuple(parts)


def children(node) -> list:
    """``list(ast.iter_child_nodes(node))``, faster."""
    out = []
    cls = node.__class__
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _child_fields(cls)
    for field in fields:
        value = getattr(node, field, None)
        if value is None:
            continue
        if isinstance(value, _AST):
            out.append(value)
        elif isinstance(value, list):
            out.extend([item for item in value if isinstance(item, _AST)])
    return out


_NAME_FIELDS = {}


def _name_fields(cls):
    """The child fields of ``cls`` that may hold Names (not contexts or operators)."""
    fields = _NAME_FIELDS[cls] = tuple(f for f in _child_fields(cls)
                                       if f not in ("ctx", "op", "ops"))
    return fields


def _names(node, out, want):
    """Add to ``out`` the ids of the Names under ``node`` whose context class is in
    ``want`` (any context for None); depth first: the order of a set does not matter.
    (Names and Constants among the children are handled where they are met, without a
    trip through the stack: they are most of the leaves.)"""
    stack = [node]
    pop, push = stack.pop, stack.append
    add = out.add
    fields_of = _NAME_FIELDS.get
    Name, Constant, AST = _Name, _Constant, _AST
    while stack:
        n = pop()
        cls = n.__class__
        if cls is Name:
            if want is None or n.ctx.__class__ in want:
                add(n.id)
            if n.annotation is None:
                continue
        fields = fields_of(cls)
        if fields is None:
            fields = _name_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            vcls = value.__class__
            if vcls is Name:
                if want is None or value.ctx.__class__ in want:
                    add(value.id)
                if value.annotation is not None:
                    push(value)
            elif vcls is Constant:
                continue
            elif vcls is list:
                for item in value:
                    icls = item.__class__
                    if icls is Name:
                        if want is None or item.ctx.__class__ in want:
                            add(item.id)
                        if item.annotation is not None:
                            push(item)
                    elif icls is not Constant and isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, AST):
                        push(item)
    return out


_LOAD = frozenset({gast.Load})
_STORE = frozenset({gast.Store, gast.Param})


def names_loaded(node) -> Set[str]:
    return _names(node, set(), _LOAD)


def names_stored(node) -> Set[str]:
    return _names(node, set(), _STORE)


def all_names(node) -> Set[str]:
    return _names(node, set(), None)


def node_list(node) -> list:
    """The nodes under ``node`` (itself first) in ``ast.walk``'s order, without the
    context and operator leaves (see ``nodes``)."""
    out = [node]
    append = out.append
    fields_of = _NAME_FIELDS.get
    for n in out:
        cls = n.__class__
        fields = fields_of(cls)
        if fields is None:
            fields = _name_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            if isinstance(value, _AST):
                append(value)
            elif value.__class__ is list:
                for item in value:
                    if isinstance(item, _AST):
                        append(item)
    return out


def dotted(node) -> Optional[str]:
    """'np.linalg.norm' for an Attribute chain of Names, else None."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, gast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def root_name(node) -> Optional[str]:
    while isinstance(node, (gast.Attribute, gast.Subscript)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


_LEGACY_CONSTANT_VISITORS = ("visit_Num", "visit_Str", "visit_Bytes", "visit_NameConstant",
                             "visit_Ellipsis")


def _visitor(kind, cls):
    method = getattr(kind, "visit_" + cls.__name__, None)
    if method is None:
        return kind.generic_visit
    if method is ast.NodeVisitor.visit_Constant and not any(
            hasattr(kind, legacy) for legacy in _LEGACY_CONSTANT_VISITORS):
        return kind.generic_visit
    return method


def _leaf_classes():
    out, todo = [], list(_LEAF_NODES)
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(c.__subclasses__())
    return out


_LEAF_CLASSES = _leaf_classes()


def _skips_leaves(kind) -> bool:
    """True when ``kind`` has no visitor for a context or operator class."""
    skip = not any(hasattr(kind, "visit_" + c.__name__) for c in _LEAF_CLASSES)
    kind._s2s_skip_leaves = skip
    return skip


class Transformer(gast.NodeTransformer):
    """``gast.NodeTransformer`` (same visits, same order, same results) with its
    ``visit_<Class>`` lookup cached per class and only the fields that may hold nodes
    visited: the passes' tree rewrites spend most of their time in this dispatch."""

    def visit(self, node):
        kind = type(self)
        table = kind.__dict__.get("_s2s_visitors")
        if table is None:
            table = {}
            kind._s2s_visitors = table
        cls = node.__class__
        method = table.get(cls)
        if method is None:
            method = table[cls] = _visitor(kind, cls)
        return method(self, node)

    def generic_visit(self, node):
        cls = node.__class__
        skip = type(self).__dict__.get("_s2s_skip_leaves")
        if skip is None:
            skip = _skips_leaves(type(self))
        if skip:
            # (a context or operator visits to itself: the fields holding them are
            # left as they are, unless the transformer has a visitor for one)
            fields = _NAME_FIELDS.get(cls)
            if fields is None:
                fields = _name_fields(cls)
        else:
            fields = _CHILD_FIELDS.get(cls)
            if fields is None:
                fields = _child_fields(cls)
        for field in fields:
            old = getattr(node, field, None)
            if isinstance(old, list):
                new_values = []
                for value in old:
                    if isinstance(value, _AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, _AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old[:] = new_values
            elif isinstance(old, _AST):
                new = self.visit(old)
                if new is None:
                    delattr(node, field)
                else:
                    setattr(node, field, new)
        return node


class Renamer(Transformer):
    """Replace Name nodes by mapping[id] (a node or a new id)."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            new = self.mapping[node.id]
            if isinstance(new, str):
                return gast.copy_location(gast.Name(id=new, ctx=node.ctx, annotation=None,
                                                    type_comment=None), node)
            new = clone(new)
            if hasattr(new, "ctx") and not isinstance(node.ctx, gast.Load):
                new.ctx = node.ctx
            return new
        return node


def rename(node, mapping):
    if not mapping or all_names(node).isdisjoint(mapping):
        return node             # (nothing to rename: the same tree, unvisited)
    return Renamer(mapping).visit(node)


def copy_origin(new, old):
    """Carry the source statement a trace node came from (for comments, errors)."""
    origin = getattr(old, "s2s_origin", None)
    if origin is not None:
        new.s2s_origin = origin
    return new


class NameAllocator:
    """Hands out identifiers that never collide with the user's or earlier ones."""

    def __init__(self, taken: Iterable[str] = ()):
        self.taken: Set[str] = set(taken)
        # base -> the first number not yet known to be taken (``taken`` only grows, so
        # the numbers below it stay taken: no search from 0 or 1 again)
        self._next: dict = {}

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def fresh(self, base: str) -> str:
        """``base`` itself if free, else base_1, base_2, ..."""
        if base not in self.taken:
            self.taken.add(base)
            return base
        taken = self.taken
        key = (base, "_")
        k = self._next.get(key, 1)
        while "%s_%d" % (base, k) in taken:
            k += 1
        name = "%s_%d" % (base, k)
        taken.add(name)
        self._next[key] = k + 1
        return name

    def numbered(self, base: str) -> str:
        """base0, base1, ... : names of the intermediates of one statement."""
        taken = self.taken
        k = self._next.get(base, 0)
        while "%s%d" % (base, k) in taken:
            k += 1
        name = "%s%d" % (base, k)
        taken.add(name)
        self._next[base] = k + 1
        return name


def splice(stmts) -> List[gast.stmt]:
    """Statements with nested lists spliced in place (builders return a statement or a
    list of them).  ``passes.common.flatten`` does this and drops emptied blocks too."""
    out: List[gast.stmt] = []
    for s in stmts:
        if isinstance(s, list):
            out.extend(splice(s))
        else:
            out.append(s)
    return out
