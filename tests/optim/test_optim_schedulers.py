"""Every learning-rate schedule against PyTorch's for 300 steps."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import gradlab
from gradlab import optim
from gradlab.optim import lr_scheduler as gls

tls = torch.optim.lr_scheduler
STEPS = 300


def _optimizers(kind: str = "SGD", lrs: tuple[float, ...] = (0.1, 0.03)):
    """A gradlab and a torch optimizer with one group per rate."""
    gl_groups = [{"params": [gradlab.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    th_groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "SGD":
        return optim.SGD(gl_groups, momentum=0.9), torch.optim.SGD(th_groups, momentum=0.9)
    return optim.Adam(gl_groups), torch.optim.Adam(th_groups)


def _compare(gl_opt, th_opt, gl_sched, th_sched, steps: int = STEPS, metrics=None,
             momentum: bool = False) -> list[float]:
    """Step both schedules, comparing the rates (and momenta) every step;
    returns gradlab's first-group sequence."""
    seq = []
    for step in range(steps + 1):
        if step:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                th_opt.step()
                if metrics is None:
                    th_sched.step()
                    gl_sched.step()
                else:
                    th_sched.step(metrics[step])
                    gl_sched.step(metrics[step])
        np.testing.assert_allclose(gl_sched.get_last_lr(), th_sched.get_last_lr(), rtol=1e-10,
                                   atol=1e-14, err_msg=f"get_last_lr at step {step}")
        np.testing.assert_allclose([g["lr"] for g in gl_opt.param_groups],
                                   [g["lr"] for g in th_opt.param_groups], rtol=1e-10,
                                   atol=1e-14, err_msg=f"group lr at step {step}")
        if momentum:
            key = "betas" if "betas" in th_opt.defaults else "momentum"
            gm = [g[key][0] if key == "betas" else g[key] for g in gl_opt.param_groups]
            tm = [g[key][0] if key == "betas" else g[key] for g in th_opt.param_groups]
            np.testing.assert_allclose(gm, tm, rtol=1e-10, err_msg=f"momentum at step {step}")
        seq.append(gl_opt.param_groups[0]["lr"])
    return seq


SIMPLE = [
    ("LambdaLR", {"lr_lambda": lambda t: 1 / (1 + 0.05 * t)}),
    ("LambdaLR", {"lr_lambda": [lambda t: 0.99 ** t, lambda t: math.cos(t / 50) ** 2]}),
    ("StepLR", {"step_size": 30, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [20, 80, 80, 150], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.98}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.01, "total_iters": 200}),
    ("LinearLR", {"start_factor": 0.05, "total_iters": 17}),
    ("ConstantLR", {"factor": 0.25, "total_iters": 40}),
    ("PolynomialLR", {"total_iters": 250, "power": 2.0}),
    ("PolynomialLR", {"total_iters": 100, "power": 0.5}),
    ("CosineAnnealingLR", {"T_max": 120, "eta_min": 1e-3}),
    ("CosineAnnealingLR", {"T_max": 37}),
    ("CosineAnnealingWarmRestarts", {"T_0": 25}),
    ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2, "eta_min": 1e-4}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 20}),
    ("CyclicLR", {"base_lr": [0.01, 0.001], "max_lr": [0.2, 0.05], "step_size_up": 15,
                  "step_size_down": 35, "mode": "triangular2"}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 25, "mode": "exp_range",
                  "gamma": 0.995}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 25,
                  "scale_fn": lambda x: 1 / x, "scale_mode": "cycle"}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": [0.5, 0.1], "epochs": 10, "steps_per_epoch": 30,
                    "anneal_strategy": "linear", "pct_start": 0.25}),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": STEPS, "three_phase": True,
                    "div_factor": 10.0, "final_div_factor": 100.0}),
]


@pytest.mark.parametrize("name,kwargs", SIMPLE, ids=[f"{n}{i}" for i, (n, _) in enumerate(SIMPLE)])
def test_schedule_matches_torch(name: str, kwargs: dict) -> None:
    gl_opt, th_opt = _optimizers()
    gl_sched = getattr(gls, name)(gl_opt, **kwargs)
    th_sched = getattr(tls, name)(th_opt, **kwargs)
    seq = _compare(gl_opt, th_opt, gl_sched, th_sched, momentum=name in ("CyclicLR", "OneCycleLR"))
    assert len(set(np.round(seq, 12))) >= 2  # the schedule does change the rate


@pytest.mark.parametrize("name,kwargs", [
    ("CyclicLR", {"base_lr": 1e-3, "max_lr": 1e-2, "step_size_up": 30, "base_momentum": 0.85,
                  "max_momentum": 0.95}),
    ("OneCycleLR", {"max_lr": 0.01, "total_steps": STEPS}),
])
def test_cycled_beta1_matches_torch(name: str, kwargs: dict) -> None:
    gl_opt, th_opt = _optimizers("Adam")
    _compare(gl_opt, th_opt, getattr(gls, name)(gl_opt, **kwargs),
             getattr(tls, name)(th_opt, **kwargs), momentum=True)


def _metrics(seed: int = 0) -> list[float]:
    """A validation loss that improves, then plateaus with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(STEPS + 1)
    return list(1.0 / (1 + 0.1 * np.minimum(t, 60)) + 0.01 * rng.standard_normal(STEPS + 1))


@pytest.mark.parametrize("kwargs", [
    {},
    {"factor": 0.5, "patience": 3},
    {"factor": 0.5, "patience": 2, "cooldown": 4, "min_lr": 1e-3},
    {"factor": 0.7, "patience": 1, "threshold": 0.01, "threshold_mode": "abs",
     "min_lr": [1e-2, 1e-4]},
    {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.05},
])
def test_reduce_on_plateau_matches_torch(kwargs: dict) -> None:
    gl_opt, th_opt = _optimizers()
    metrics = _metrics()
    if kwargs.get("mode") == "max":
        metrics = [-m for m in metrics]
    seq = _compare(gl_opt, th_opt, gls.ReduceLROnPlateau(gl_opt, **kwargs),
                   tls.ReduceLROnPlateau(th_opt, **kwargs), metrics=metrics)
    assert seq[-1] < seq[0]


@pytest.mark.parametrize("case", ["linear-exp", "three-phase", "into-cyclic"])
def test_sequential_matches_torch(case: str) -> None:
    gl_opt, th_opt = _optimizers()
    pair = []
    for mod, opt in ((gls, gl_opt), (tls, th_opt)):
        if case == "linear-exp":
            scheds, milestones = [mod.LinearLR(opt, 0.1, total_iters=10),
                                  mod.ExponentialLR(opt, 0.99)], [10]
        elif case == "three-phase":
            scheds, milestones = [mod.ConstantLR(opt, 0.1, total_iters=5),
                                  mod.CosineAnnealingLR(opt, T_max=95, eta_min=1e-4),
                                  mod.StepLR(opt, 50, 0.5)], [5, 100]
        else:
            scheds, milestones = [mod.LinearLR(opt, 0.2, total_iters=8),
                                  mod.LambdaLR(opt, lambda t: 1 / math.sqrt(1 + t))], [8]
        pair.append(mod.SequentialLR(opt, scheds, milestones))
    _compare(gl_opt, th_opt, *pair)


@pytest.mark.parametrize("case", ["constant-exp", "linear-step-poly", "cosine"])
def test_chained_matches_torch(case: str) -> None:
    gl_opt, th_opt = _optimizers()
    pair = []
    for mod, opt in ((gls, gl_opt), (tls, th_opt)):
        if case == "constant-exp":
            scheds = [mod.ConstantLR(opt, 0.1, total_iters=2), mod.ExponentialLR(opt, 0.99)]
        elif case == "linear-step-poly":
            scheds = [mod.LinearLR(opt, 0.3, total_iters=20), mod.StepLR(opt, 40, 0.7),
                      mod.PolynomialLR(opt, total_iters=280, power=1.5)]
        else:
            scheds = [mod.MultiStepLR(opt, [50, 150], 0.5), mod.CosineAnnealingLR(opt, T_max=350)]
        pair.append(mod.ChainedScheduler(scheds))
    _compare(gl_opt, th_opt, *pair)


@pytest.mark.parametrize("mode", ["linear", "constant"])
def test_warmup_equals_sequential_warmup(mode: str) -> None:
    gl_opt, th_opt = _optimizers()
    after = gls.CosineAnnealingLR(gl_opt, T_max=200)
    gl_sched = gls.Warmup(gl_opt, after, warmup_steps=12, mode=mode, start_factor=0.05)
    cos = tls.CosineAnnealingLR(th_opt, T_max=200)
    first = (tls.LinearLR(th_opt, 0.05, 1.0, total_iters=12) if mode == "linear"
             else tls.ConstantLR(th_opt, 0.05, total_iters=12))
    th_sched = tls.SequentialLR(th_opt, [first, cos], [12])
    seq = _compare(gl_opt, th_opt, gl_sched, th_sched)
    assert seq[0] == pytest.approx(0.1 * 0.05)
    assert seq[12] == pytest.approx(0.1)


def test_warmup_before_plateau_gives_expected_sequence() -> None:
    warm, base, start = 5, 0.1, 0.2
    gl_opt, th_opt = _optimizers(lrs=(base,))
    plateau = gls.ReduceLROnPlateau(gl_opt, factor=0.5, patience=2)
    sched = gls.Warmup(gl_opt, plateau, warmup_steps=warm, start_factor=start)
    metrics = _metrics(3)
    # PyTorch's plateau rule alone, fed the metrics that come after the warmup
    th_plateau = tls.ReduceLROnPlateau(th_opt, factor=0.5, patience=2)
    expected = [base * (start + (1 - start) * t / warm) for t in range(warm)] + [base]
    for m in metrics[warm + 1:]:
        th_plateau.step(m)
        expected.append(th_opt.param_groups[0]["lr"])
    got = [sched.get_last_lr()[0]]
    for m in metrics[1:]:
        sched.step(m)
        got.append(sched.get_last_lr()[0])
        assert gl_opt.param_groups[0]["lr"] == got[-1]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[1] == pytest.approx(0.036)  # 0.1 * (0.2 + 0.8 / 5)
    assert min(got[warm:]) < base / 4  # the plateau rule did reduce it


def test_warmup_before_plateau_state_round_trip() -> None:
    metrics = _metrics(5)

    def build():
        opt, _ = _optimizers(lrs=(0.1,))
        return opt, gls.Warmup(opt, gls.ReduceLROnPlateau(opt, factor=0.5, patience=1), 4)

    opt_a, sched_a = build()
    for m in metrics[1:100]:
        sched_a.step(m)
    opt_b, sched_b = build()
    sched_b.load_state_dict(sched_a.state_dict())
    opt_b.load_state_dict(opt_a.state_dict())
    for m in metrics[100:]:
        sched_a.step(m)
        sched_b.step(m)
        assert sched_a.get_last_lr() == sched_b.get_last_lr()
        assert opt_a.param_groups[0]["lr"] == opt_b.param_groups[0]["lr"]


ROUND_TRIP = [
    lambda o: gls.StepLR(o, 7, 0.5),
    lambda o: gls.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
    lambda o: gls.CyclicLR(o, 0.01, 0.1, step_size_up=13),
    lambda o: gls.OneCycleLR(o, 0.5, total_steps=STEPS),
    lambda o: gls.SequentialLR(o, [gls.LinearLR(o, 0.1, total_iters=10),
                                   gls.CosineAnnealingLR(o, 100)], [10]),
    lambda o: gls.ChainedScheduler([gls.ConstantLR(o, 0.5, 30), gls.ExponentialLR(o, 0.99)]),
    lambda o: gls.Warmup(o, gls.MultiStepLR(o, [50, 100]), 20),
]


@pytest.mark.parametrize("index", range(len(ROUND_TRIP)))
def test_state_dict_round_trip_mid_schedule(index: int) -> None:
    make = ROUND_TRIP[index]
    opt_a, _ = _optimizers()
    sched_a = make(opt_a)
    for _ in range(137):
        sched_a.step()
    state = sched_a.state_dict()
    opt_state = opt_a.state_dict()
    opt_b, _ = _optimizers()
    sched_b = make(opt_b)
    sched_b.load_state_dict(state)
    opt_b.load_state_dict(opt_state)
    for _ in range(STEPS - 137):
        sched_a.step()
        sched_b.step()
        assert sched_b.get_last_lr() == sched_a.get_last_lr()
        assert [g["lr"] for g in opt_b.param_groups] == [g["lr"] for g in opt_a.param_groups]
        assert [g["momentum"] for g in opt_b.param_groups] == \
            [g["momentum"] for g in opt_a.param_groups]


def test_torch_style_resume_with_last_epoch() -> None:
    opt, _ = _optimizers()
    sched = gls.ExponentialLR(opt, 0.9)
    for _ in range(5):
        sched.step()
    resumed = gls.ExponentialLR(opt, 0.9, last_epoch=4)
    assert resumed.last_epoch == 5
    assert resumed.get_last_lr() == pytest.approx(sched.get_last_lr())
    fresh, _ = _optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        gls.ExponentialLR(fresh, 0.9, last_epoch=3)


def test_onecycle_refuses_to_step_past_total() -> None:
    opt, _ = _optimizers()
    sched = gls.OneCycleLR(opt, 0.1, total_steps=5)
    for _ in range(5):
        sched.step()
    with pytest.raises(ValueError, match="total steps is 5"):
        sched.step()


@pytest.mark.parametrize("make,match", [
    (lambda o: gls.StepLR(o, 0), "step_size"),
    (lambda o: gls.ExponentialLR(o, -0.5), "gamma"),
    (lambda o: gls.LinearLR(o, start_factor=0.0), "start_factor"),
    (lambda o: gls.LinearLR(o, end_factor=2.0), "end_factor"),
    (lambda o: gls.ConstantLR(o, factor=1.5), "factor"),
    (lambda o: gls.CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: gls.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=0), "T_mult"),
    (lambda o: gls.CyclicLR(o, 0.1, 1.0, mode="sawtooth"), "mode"),
    (lambda o: gls.CyclicLR(o, -0.1, 1.0), "base_lr"),
    (lambda o: gls.CyclicLR(o, 0.1, 1.0, base_momentum=-0.8), "base_momentum"),
    (lambda o: gls.OneCycleLR(o, [0.1, -1.0], total_steps=10), "max_lr"),
    (lambda o: gls.MultiStepLR(o, [10, -5]), "milestones"),
    (lambda o: gls.PolynomialLR(o, power=-1.0), "power"),
    (lambda o: gls.OneCycleLR(o, 0.1), "total_steps"),
    (lambda o: gls.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5), "pct_start"),
    (lambda o: gls.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"), "anneal_strategy"),
    (lambda o: gls.ReduceLROnPlateau(o, factor=1.0), "factor"),
    (lambda o: gls.ReduceLROnPlateau(o, mode="up"), "mode"),
    (lambda o: gls.ReduceLROnPlateau(o, min_lr=[0.1]), "min_lr"),
    (lambda o: gls.Warmup(o, gls.StepLR(o, 5), warmup_steps=0), "warmup_steps"),
    (lambda o: gls.Warmup(o, gls.StepLR(o, 5), 5, mode="cosine"), "mode"),
    (lambda o: gls.SequentialLR(o, [gls.StepLR(o, 5), gls.StepLR(o, 5)], []), "milestone"),
    (lambda o: gls.SequentialLR(o, [gls.ReduceLROnPlateau(o)], []), "ReduceLROnPlateau"),
])
def test_bad_arguments_raise_value_error(make, match: str) -> None:
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match=match):
        make(opt)


def test_cycle_momentum_needs_momentum() -> None:
    opt = optim.Adagrad([gradlab.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="momentum"):
        gls.CyclicLR(opt, 0.01, 0.1)
    gls.CyclicLR(opt, 0.01, 0.1, cycle_momentum=False)  # fine without cycling


def test_plateau_step_needs_metric() -> None:
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match="metric"):
        gls.ReduceLROnPlateau(opt).step()


def test_linear_scaling_rule() -> None:
    assert optim.linear_scaling_rule(0.1, 256, 1024) == pytest.approx(0.4)
    assert gls.linear_scaling_rule(0.1, 256, 64) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="batch_size"):
        optim.linear_scaling_rule(0.1, 256, 0)
    with pytest.raises(ValueError, match="base_lr"):
        optim.linear_scaling_rule(-0.1, 256, 32)


@pytest.mark.parametrize("t_mult", [1, 2])
def test_warm_restarts_fractional_epochs_match_torch(t_mult: int) -> None:
    gl_opt, th_opt = _optimizers()
    gl_sched = gls.CosineAnnealingWarmRestarts(gl_opt, T_0=3, T_mult=t_mult, eta_min=1e-3)
    th_sched = tls.CosineAnnealingWarmRestarts(th_opt, T_0=3, T_mult=t_mult, eta_min=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(1, 200):
            epoch = i / 7  # several batches per epoch
            th_opt.step()
            th_sched.step(epoch)
            gl_sched.step(epoch)
            np.testing.assert_allclose(gl_sched.get_last_lr(), th_sched.get_last_lr(), rtol=1e-10,
                                       err_msg=f"epoch {epoch}")
