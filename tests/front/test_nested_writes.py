"""A write into an item of an item (``xs[t][k] = 1``, ``rows[1][0] += v``) of a local
dict or list whose items are arrays the function made: Python writes into the one
object ``xs[t]`` is, no other name holds it, and s2sgrad differentiates the write as
such (split_nested_writes), checked against finite differences.  Where another name
may hold the item (an argument's items, an item stored from a name, a list of lists)
it is a clear error, as before."""
import numpy as np
import pytest

from s2sgrad import grad
from s2sgrad.errors import UnsupportedSyntaxError
from gradcheck import check_grad

rng = np.random.default_rng(41)


def one_hot_inputs(W, idx):
    xs, hs = {}, {}
    hs[-1] = np.zeros(W.shape[0])
    for t in range(len(idx)):
        xs[t] = np.zeros(W.shape[1])
        xs[t][idx[t]] = 1
        hs[t] = np.tanh(W @ xs[t] + hs[t - 1])
    return np.sum(hs[len(idx) - 1] ** 2)


def active_item_written(x):
    rows = [x * 1.0, x ** 2]
    rows.append(np.cos(x))
    rows[2][1] = 4.0
    rows[1][0] = np.sin(x[1])          # a differentiated value into a differentiated item
    rows[0][2] += 3.0 * x[0]
    return np.sum(rows[0] * rows[1]) + np.sum(rows[2] ** 3)


def three_levels(x):
    grid = [[x * 1.0, x * 2.0], [x * 3.0, x * 4.0]]
    grid[1][0][2] = x[0] * x[1]
    grid[0][1][0] *= x[2]
    return sum(np.sum(np.cos(a)) for row in grid for a in row)


def dict_of_dicts(x, cfg):
    state = {'a': {'w': x * 1.0}, 'b': {'w': x * 2.0}}
    state['a']['w'] = state['a']['w'] * cfg['scale']
    state['b']['extra'] = np.exp(x)
    return np.sum(state['a']['w'] * state['b']['w']) + np.sum(state['b']['extra'])


def test_one_hot_rows_in_a_dict_over_time():
    W = rng.normal(size=(4, 5))
    idx = [0, 3, 1, 4]
    check_grad(one_hot_inputs, (W, idx), wrt=0)


def test_differentiated_items_written():
    check_grad(active_item_written, (rng.normal(size=4),))


def item_from_a_name(x):
    rows = [x, x ** 2]                 # rows[0] is x itself: the write changes x
    rows[0][2] += 3.0
    return np.sum(rows[0] * x)


def items_of_an_argument(x, rows):
    rows[0][1] = x[0]
    return np.sum(rows[0] * x)


@pytest.mark.parametrize("f, args", [
    (three_levels, ()), (dict_of_dicts, ({'scale': 1.5},)), (item_from_a_name, ()),
    (items_of_an_argument, ([np.ones(3)],)),
], ids=["list_of_lists", "dict_of_dicts", "item_from_a_name", "argument"])
def test_items_another_name_may_hold_are_refused(f, args):
    with pytest.raises(UnsupportedSyntaxError, match="writing into an item of an item"):
        grad(f)(rng.normal(size=3), *args)


def another_name_read_later(x):
    rows = [x * 1.0, x * 2.0]
    first = rows[0]
    rows[0][1] = 5.0
    return np.sum(first * x)


def test_another_name_for_the_item_read_later_is_a_clear_error():
    with pytest.raises(UnsupportedSyntaxError, match="changes 'first' too"):
        grad(another_name_read_later)(rng.normal(size=3))
