"""The one effects table (analysis/effects.py): which calls return views, which write in
place, which have effects.  Each list is checked against NumPy itself, and the analyses
that used to keep their own, shorter lists (the front end's aliasing checks, the
lowering's in-place refusals) are checked on the programs they got wrong: a silently
wrong gradient before, a clear refusal (or the finite-difference gradient) now."""
import gast
import numpy as np
import pytest

from gradcheck import check_grad
from s2sgrad import UnsupportedSyntaxError, grad
from s2sgrad.analysis import effects

X = np.array([[0.3, 0.7, 1.1], [1.9, -0.4, 0.5]])

# one call per NumPy function of VIEW_FUNCTIONS (the installed NumPy's), on X
_VIEW_CALLS = {
    "reshape": lambda a: np.reshape(a, (3, 2)), "ravel": np.ravel, "transpose": np.transpose,
    "swapaxes": lambda a: np.swapaxes(a, 0, 1), "moveaxis": lambda a: np.moveaxis(a, 0, 1),
    "rollaxis": lambda a: np.rollaxis(a, 1), "squeeze": lambda a: np.squeeze(a[None]),
    "expand_dims": lambda a: np.expand_dims(a, 0),
    "broadcast_to": lambda a: np.broadcast_to(a, (4, 2, 3)),
    "broadcast_arrays": lambda a: np.broadcast_arrays(a, np.ones((4, 1, 1)))[0],
    "atleast_1d": np.atleast_1d, "atleast_2d": np.atleast_2d, "atleast_3d": np.atleast_3d,
    "diagonal": np.diagonal, "diag": np.diag, "real": np.real, "imag": lambda a: np.imag(
        a.astype(complex)), "flip": np.flip, "fliplr": np.fliplr, "flipud": np.flipud,
    "rot90": np.rot90, "split": lambda a: np.split(a, 3, axis=1)[1],
    "array_split": lambda a: np.array_split(a, 2, axis=1)[0],
    "hsplit": lambda a: np.hsplit(a, 3)[0], "vsplit": lambda a: np.vsplit(a, 2)[1],
    "dsplit": lambda a: np.dsplit(a[..., None], 1)[0], "asarray": np.asarray,
    "asanyarray": np.asanyarray, "ascontiguousarray": np.ascontiguousarray,
    "asfortranarray": lambda a: np.asfortranarray(a.T), "require": np.require,
    "permute_dims": lambda a: np.permute_dims(a), "matrix_transpose": lambda a:
        np.matrix_transpose(a), "unstack": lambda a: np.unstack(a)[0],
    "as_strided": lambda a: np.lib.stride_tricks.as_strided(a, (2,), (8,)),
    "sliding_window_view": lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=1),
}


@pytest.mark.parametrize("name", sorted(effects.VIEW_FUNCTIONS - {"unreduce", "unbroadcast"}))
def test_each_view_function_returns_a_view(name):
    if name in ("permute_dims", "matrix_transpose", "unstack") and not hasattr(np, name):
        pytest.skip("np.%s is newer than this NumPy" % name)
    x = X.copy()
    if name == "imag":
        x = X.astype(complex)
        assert np.shares_memory(np.imag(x), x)
        return
    assert np.shares_memory(_VIEW_CALLS[name](x), x)


@pytest.mark.parametrize("name", sorted(effects.VIEW_METHODS))
def test_each_view_method_returns_a_view(name):
    x = X.copy()
    args = {"reshape": (3, 2), "swapaxes": (0, 1)}.get(name, ())
    assert np.shares_memory(getattr(x, name)(*args), x)


@pytest.mark.parametrize("name", effects.MUTATING_FUNCTIONS)
def test_each_mutating_function_writes_into_its_first_argument(name):
    x = X.copy()
    calls = {"copyto": lambda: np.copyto(x, 0.0), "put": lambda: np.put(x, [0], [9.0]),
             "place": lambda: np.place(x, x > 1.0, [9.0]),
             "putmask": lambda: np.putmask(x, x > 1.0, 9.0),
             "fill_diagonal": lambda: np.fill_diagonal(x, 9.0),
             "put_along_axis": lambda: np.put_along_axis(x, np.zeros((2, 1), int), 9.0, 1)}
    calls[name]()
    assert not np.array_equal(x, X)


def _expr(src):
    return gast.parse(src).body[0].value


@pytest.mark.parametrize("src", ["np.subtract.at(y, i, v)", "np.maximum.at(y, i, v)",
                                 "np.add.at(y, i, v)", "np.random.normal(size=3)",
                                 "np.copyto(y, x)", "np.putmask(y, m, x)", "np.save('f', x)",
                                 "np.seterr(all='ignore')", "np.fill_diagonal(y, 0.0)",
                                 "y.fill(0.0)", "ys.append(x)", "f(x)", "(lambda: x)()"])
def test_calls_with_effects_are_impure(src):
    assert not effects.pure_expr(_expr(src), "np")


@pytest.mark.parametrize("src", ["np.exp(x) * 2.0", "np.sum(x, axis=0)", "x.reshape(3, 2)",
                                 "helper(x, y)", "x[1:2] + y.T"])
def test_arithmetic_and_numpy_functions_are_pure(src):
    assert effects.pure_expr(_expr(src), "np", helpers={"helper"})


def test_a_numpy_called_by_another_name_is_read_as_numpy():
    assert not effects.pure_expr(_expr("numpy.random.normal()"), "numpy")
    assert effects.pure_expr(_expr("numpy.exp(x)"), "numpy")


# -- the programs the front end's shorter view list got wrong (silently wrong gradients) --

def real_view_then_update(x):
    v = np.real(x)            # a view of x (x is real): the update below changes v too
    x += 1.0
    return np.sum(v * x)


def split_view_then_update(x):
    a, b = np.split(x, 2)
    x += 1.0
    return np.sum(a * x[:2])


def split_view_then_item_write(x):
    y = x * 1.0
    v = np.split(y, 2)[0]
    y[0] = 3.0 * y[1]
    return np.sum(v * y[:2])


def real_view_then_item_write(x):
    y = x * 1.0
    v = np.real(y)
    y[0] = 3.0 * y[1]
    return np.sum(np.sin(v) * y)


@pytest.mark.parametrize("f", [real_view_then_update, split_view_then_update,
                               split_view_then_item_write, real_view_then_item_write])
def test_writes_through_a_view_of_any_listed_call_are_refused(f):
    x = np.array([0.3, 0.7, 1.1, 1.9])
    with pytest.raises(UnsupportedSyntaxError, match="share"):
        grad(f)(x.copy())


def real_copy_then_update(x):
    v = np.real(x).copy()
    x = x + 1.0
    return np.sum(v * x)


def test_the_same_program_with_a_copy_is_differentiated():
    check_grad(real_copy_then_update, (np.array([0.3, 0.7, 1.1, 1.9]),))


# -- a random generator's in-place shuffle ---------------------------------------------------

def shuffle_a_varied_array(x):
    rng = np.random.default_rng(0)
    y = x * np.arange(1.0, 5.0)
    rng.shuffle(y)               # permutes y in place: the trace would not see it
    return np.sum(y * np.arange(1.0, 5.0))


def shuffle_an_index_array(x):
    rng = np.random.default_rng(0)
    idx = np.arange(4)
    rng.shuffle(idx)             # an int array: no gradient to follow
    return np.sum(x[idx] * np.arange(1.0, 5.0))


def test_shuffling_a_differentiated_array_in_place_is_refused():
    with pytest.raises(UnsupportedSyntaxError, match="shuffles its argument in place"):
        grad(shuffle_a_varied_array)(np.array([0.3, 0.7, 1.1, 1.9]))


def test_shuffling_an_index_array_is_differentiated():
    check_grad(shuffle_an_index_array, (np.array([0.3, 0.7, 1.1, 1.9]),))
