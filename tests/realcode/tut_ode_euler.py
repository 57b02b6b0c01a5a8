"""Fitting the parameters of an ODE through its solver loop: a damped oscillator
integrated with fixed-step Runge-Kutta 4, the loss on the whole trajectory."""
AUTOGRAD = True
import numpy as np


def dynamics(state, theta):
    x, v = state[0], state[1]
    k, c = theta[0], theta[1]
    return np.array([v, -k * x - c * v])


def rk4(state, theta, t_end, n_steps):
    h = t_end / n_steps
    trajectory = [state]
    for _ in range(n_steps):
        k1 = dynamics(state, theta)
        k2 = dynamics(state + 0.5 * h * k1, theta)
        k3 = dynamics(state + 0.5 * h * k2, theta)
        k4 = dynamics(state + h * k3, theta)
        state = state + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        trajectory.append(state)
    return np.stack(trajectory)


def trajectory_loss(theta, state0, observed):
    predicted = rk4(state0, theta, 2.0, 20)
    return np.mean((predicted[:, 0] - observed) ** 2)


def problem():
    true_theta = np.array([4.0, 0.5])
    state0 = np.array([1.0, 0.0])
    observed = rk4(state0, true_theta, 2.0, 20)[:, 0]
    theta = np.array([3.0, 0.2])
    return dict(f=trajectory_loss, args=(theta, state0, observed), wrt=0, lr=0.2)
