"""An ODE solver that takes the right-hand side as a function argument, as
scipy.integrate-style code does: odeint_euler(f, y0, ts, params)."""
import numpy as np


def lotka_volterra(y, t, params):
    alpha, beta, delta, gamma = params[0], params[1], params[2], params[3]
    prey, pred = y[0], y[1]
    return np.array([alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred])


def odeint_euler(func, y0, ts, params):
    ys = [y0]
    y = y0
    for i in range(len(ts) - 1):
        dt = ts[i + 1] - ts[i]
        y = y + dt * func(y, ts[i], params)
        ys.append(y)
    return np.stack(ys)


def loss(params, y0, ts, observed):
    return np.mean((odeint_euler(lotka_volterra, y0, ts, params) - observed) ** 2)


def problem():
    ts = np.linspace(0, 2, 21)
    y0 = np.array([1.0, 0.5])
    observed = odeint_euler(lotka_volterra, y0, ts, np.array([1.1, 0.4, 0.1, 0.4]))
    return dict(f=loss, args=(np.array([1.0, 0.5, 0.2, 0.3]), y0, ts, observed), wrt=0,
                lr=0.01)
