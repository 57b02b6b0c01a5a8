"""Gradients computed on a real ``dask.distributed.LocalCluster`` (2 worker processes):
logistic regression, a softmax MLP, an RNN over time with the batch chunked, element
writes.  The data are made on the workers (``da.random``), the generated gradient only
builds the graph (no task runs during the call), ``dask.compute`` runs it on both
workers, and the results match the NumPy gradient and float64 finite differences.

Starting the cluster takes a few seconds: these tests run with S2SGRAD_CLUSTER=1
(`S2SGRAD_CLUSTER=1 python -m pytest tests/duckarrays/test_dask_cluster.py`)."""
import os

import numpy as np
import pytest

if os.environ.get("S2SGRAD_CLUSTER", "") in ("", "0"):
    pytest.skip("cluster tests: set S2SGRAD_CLUSTER=1", allow_module_level=True)
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("dask.distributed")

from s2sgrad import grad, value_and_grad  # noqa: E402
from gradcheck import _numeric_grad_and_noise  # noqa: E402
from test_dask_lazy import element_writes, logreg, mlp, rnn  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def on_cluster(client, g, *args):
    """g(*args) builds the graph without running a task; compute runs it on both workers."""
    with distributed.get_task_stream(client) as during_call:
        lazy = g(*args)
    assert during_call.data == [], "the gradient call ran %d task(s)" % len(during_call.data)
    with distributed.get_task_stream(client) as ts:
        out = dask.compute(*lazy) if isinstance(lazy, tuple) else lazy.compute()
    workers = {t["worker"] for t in ts.data}
    assert workers == set(client.scheduler_info()["workers"]), workers
    return lazy, out


def references(f, args, wrt, got, rtol=1e-6, atol=1e-8):
    ref = grad(f, wrt=wrt)(*args)
    for i, a, r in zip(wrt, got, ref):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12)
        num, noise = _numeric_grad_and_noise(
            lambda *z: f(*[x.copy() if isinstance(x, np.ndarray) else x for x in z]),
            args, i, 1e-6)
        assert np.all(np.abs(a - num) <= atol + rtol * np.abs(num) + noise), i


def test_logistic_regression_on_two_workers(client):
    rs = da.random.RandomState(1)
    X = rs.normal(size=(4000, 6), chunks=(500, 6))
    y = (rs.random_sample(4000, chunks=500) > 0.5).astype(float)
    w = np.linspace(-0.5, 0.5, 6)
    lazy, gw = on_cluster(client, grad(logreg), w, X, y)
    assert isinstance(lazy, da.Array)
    Xn, yn = dask.compute(X, y)
    references(logreg, (w, Xn[:400], yn[:400]), (0,), [grad(logreg)(w, Xn[:400], yn[:400])])
    np.testing.assert_allclose(gw, grad(logreg)(w, Xn, yn), rtol=1e-10)
    # value_and_grad: both lazy, both from the cluster
    (value, g), = [value_and_grad(logreg)(w, X, y)]
    v, g2 = dask.compute(value, g)
    assert abs(float(v) - logreg(w, Xn, yn)) < 1e-12
    np.testing.assert_allclose(g2, gw, rtol=1e-12)


def test_softmax_mlp_on_two_workers(client):
    rng = np.random.default_rng(2)
    params = (rng.normal(size=(5, 16)) * 0.5, rng.normal(size=16) * 0.1,
              rng.normal(size=(16, 4)) * 0.5, rng.normal(size=4) * 0.1)
    rs = da.random.RandomState(3)
    X = rs.normal(size=(2000, 5), chunks=(250, 5))
    labels = rs.randint(0, 4, size=2000, chunks=250)
    Y = (labels[:, None] == np.arange(4)).astype(float)
    _, grads = on_cluster(client, grad(mlp, wrt=(0, 1, 2, 3)), *params, X, Y)
    Xn, Yn = dask.compute(X, Y)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]),
                               np.concatenate([g.ravel() for g in grad(mlp, wrt=(0, 1, 2, 3))(
                                   *params, Xn, Yn)]), rtol=1e-10, atol=1e-14)
    references(mlp, params + (Xn[:60], Yn[:60]), (0, 1, 2, 3),
               grad(mlp, wrt=(0, 1, 2, 3))(*params, Xn[:60], Yn[:60]))


def test_rnn_over_time_with_the_batch_chunked_on_two_workers(client):
    rng = np.random.default_rng(4)
    Wh, Wx = rng.normal(size=(8, 8)) * 0.3, rng.normal(size=(3, 8)) * 0.5
    X = da.random.RandomState(5).normal(size=(12, 400, 3), chunks=(12, 100, 3))
    _, (gWh, gWx) = on_cluster(client, grad(rnn, wrt=(0, 1)), Wh, Wx, X)
    Xn = X.compute()
    rWh, rWx = grad(rnn, wrt=(0, 1))(Wh, Wx, Xn)
    np.testing.assert_allclose(gWh, rWh, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(gWx, rWx, rtol=1e-10, atol=1e-13)
    references(rnn, (Wh, Wx, Xn[:4, :6]), (0, 1), grad(rnn, wrt=(0, 1))(Wh, Wx, Xn[:4, :6]))


def test_element_writes_on_two_workers(client):
    w = np.array([0.5, -1.0, 2.0])
    X = da.random.RandomState(6).normal(size=(600, 3), chunks=(150, 3))
    lazy, (gw, gX) = on_cluster(client, grad(element_writes, wrt=(0, 1)), w, X)
    assert lazy[1].chunks == X.chunks
    Xn = X.compute()
    rw, rX = grad(element_writes, wrt=(0, 1))(w, Xn)
    np.testing.assert_allclose(gw, rw, rtol=1e-10)
    np.testing.assert_allclose(gX, rX, rtol=1e-10)
    references(element_writes, (w, Xn[:8]), (0, 1), grad(element_writes, wrt=(0, 1))(w, Xn[:8]))


def test_the_example_trains_and_agrees_with_numpy(tmp_path):
    """examples/dask_logreg.py --quick: its own cluster, the loss goes down, the NumPy
    gradient on a sample equals the Dask one, the PNG is written."""
    import subprocess
    import sys

    from paths import ROOT
    pytest.importorskip("matplotlib")
    png = tmp_path / "curve.png"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "dask_logreg.py"),
                           "--quick", "--no-progress", "--plot", str(png)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=600, env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NumPy and Dask gradients agree" in proc.stdout
    assert "def logreg_value_and_grad(w, b, X, y):" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
