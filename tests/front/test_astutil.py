"""astutil's tree helpers: clone, and the name scans."""
import gast

from s2sgrad import astutil as A


def test_clone_copies_every_node_but_shares_contexts_and_operators():
    tree = A.parse("def f(x, y):\n    z = -x[0] * y + np.sum(x, axis=1)\n    return z")
    new = A.clone(tree)
    assert gast.dump(new) == gast.dump(tree)
    old_nodes, new_nodes = list(A.walk(tree)), list(A.walk(new))
    for a, b in zip(old_nodes, new_nodes):
        if a.__class__ in A._FIELDLESS:
            assert a is b
        else:
            assert a is not b
    # editing the copy leaves the original as it was
    before = gast.dump(tree)
    assign = new.body[0].body[0]
    assign.targets[0].id = "w"
    assign.value.op = gast.Sub()
    assign.value.left.left.operand.ctx = gast.Store()
    assert gast.dump(tree) == before


def test_clone_keeps_shared_nodes_shared():
    name = gast.Name("x", gast.Load(), None, None)
    tree = gast.BinOp(left=name, op=gast.Add(), right=name)
    new = A.clone(tree)
    assert new.left is new.right and new.left is not name


def test_name_scans_see_names_at_every_depth():
    stmt = A.parse("a[i, j + k] = f(b, *c, key=d)[e].attr + (g if h else 1.0)").body[0]
    assert A.names_loaded(stmt) == {"a", "i", "j", "k", "f", "b", "c", "d", "e", "g", "h"}
    assert A.names_stored(A.parse("p, (q, r[s]) = t").body[0]) == {"p", "q"}
    assert A.all_names(A.parse("for u in [v, w]:\n    x = 1").body[0]) == {"u", "v", "w", "x"}
