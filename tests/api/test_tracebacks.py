"""An error leaving s2sgrad's public API shows the user's frames and the message, not
the compiler's (S2SGRAD_TRACEBACK=full shows everything).  Each case runs a script
in a fresh interpreter and reads what it prints."""
import os
import subprocess
import sys
import textwrap

import pytest

import s2sgrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(s2sgrad.__file__)))
PACKAGE = os.path.join(ROOT, "s2sgrad") + os.sep
# the one frame a bare re-raise cannot drop before Python 3.11 (tracebacks.py)
ALLOWED_INTERNAL = 0 if sys.version_info >= (3, 11) else 1

PRELUDE = """
import numpy as np
import s2sgrad
"""

CASES = {
    "generation error on the first call": ("""
        def f(x):
            y = np.sin(x)
            return np.sum(helper(y))

        def helper(y):
            try:
                z = y * 2.0
            except ValueError:
                z = y
            return z

        g = s2sgrad.grad(f)
        g(np.ones(3))
        """, "UnsupportedSyntaxError", "g(np.ones(3))"),
    "bad wrt at construction": ("""
        def f(x):
            return np.sum(x)

        s2sgrad.grad(f, wrt=7)
        """, "WrtError", "s2sgrad.grad(f, wrt=7)"),
    "wrt and argnums together": ("""
        def f(x):
            return np.sum(x)

        s2sgrad.value_and_grad(f, wrt=0, argnums=0)
        """, "WrtError", "s2sgrad.value_and_grad(f, wrt=0, argnums=0)"),
    "vjp of an unsupported call": ("""
        def f(x):
            return np.sum(np.frompyfunc(abs, 1, 1)(x))

        s2sgrad.vjp(f)(np.ones(2))
        """, "UnsupportedCallError", "s2sgrad.vjp(f)(np.ones(2))"),
    "check_grads finding a wrong adjoint": ("""
        def sq(x):
            return x * x

        @s2sgrad.adjoint(sq)
        def _(result, x):
            grad[x] = grad[result] * 3.0 * x

        def f(x):
            return np.sum(sq(x))

        s2sgrad.check_grads(f, (np.array([1.0, 2.0]),), order=1)
        """, "AssertionError", "s2sgrad.check_grads(f, (np.array([1.0, 2.0]),), order=1)"),
    "non-scalar output without has_aux": ("""
        def f(x):
            return np.sum(x), x

        s2sgrad.grad(f)(np.ones(2))
        """, "NonScalarOutputError", "s2sgrad.grad(f)(np.ones(2))"),
}


def run(tmp_path, body, env_extra=None):
    script = tmp_path / "user_script.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=ROOT, S2SGRAD_NO_CACHE="1")
    env.pop("S2SGRAD_TRACEBACK", None)
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return proc.stderr


def frames(stderr):
    return [line for line in stderr.splitlines() if line.startswith('  File "')]


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_shows_the_users_frame_and_message_only(case, tmp_path):
    body, error, user_line = CASES[case]
    err = run(tmp_path, body)
    internal = [f for f in frames(err) if PACKAGE in f]
    assert len(internal) <= ALLOWED_INTERNAL, err
    assert user_line in err, err
    assert any(line.split(":")[0].split(".")[-1] == error for line in err.splitlines()
               if not line.startswith(" ")), err
    assert len(err.strip().splitlines()) <= 12, err
    assert frames(err)[0].startswith('  File "%s"' % (tmp_path / "user_script.py")), err


@pytest.mark.parametrize("case", sorted(CASES))
def test_full_traceback_on_request(case, tmp_path):
    body, error, user_line = CASES[case]
    err = run(tmp_path, body, {"S2SGRAD_TRACEBACK": "full"})
    assert any(PACKAGE in f for f in frames(err)), err
    assert "removed its internal frames" not in err


def test_user_frames_below_the_api_are_kept(tmp_path):
    # check_grads calls the user's function: an error inside it keeps that frame
    err = run(tmp_path, """
        def f(x):
            return np.sum(x) + undefined_name

        s2sgrad.check_grads(f, (np.ones(2),), order=1)
        """)
    assert "NameError" in err
    assert "undefined_name" in err
    assert not [f for f in frames(err) if PACKAGE in f][ALLOWED_INTERNAL:], err


def test_filtering_in_process_keeps_the_exception_catchable():
    def f(x):
        return np.sum(x), x

    import numpy as np
    with pytest.raises(s2sgrad.NonScalarOutputError) as info:
        s2sgrad.grad(f)(np.ones(2))
    import traceback
    text = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert "s2sgrad/ad/pipeline.py" not in text
