"""L-BFGS: limited-memory quasi-Newton steps, optionally with a strong-Wolfe
line search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradlab.backend import array_module
from gradlab.optim._line_search import strong_wolfe
from gradlab.optim.optimizer import Optimizer, ParamsT, check_nonnegative
from gradlab.tensor import Tensor

__all__ = ["LBFGS"]

_ARRAY_KEYS = ("d", "prev_flat_grad")
_LIST_KEYS = ("old_dirs", "old_stps")


class LBFGS(Optimizer):
    r"""L-BFGS (Liu and Nocedal 1989; Nocedal and Wright, *Numerical
    Optimization*, Algorithm 7.4 for the two-loop recursion), as PyTorch's
    port of minFunc.

    Each ``step(closure)`` runs up to ``max_iter`` iterations. From the last
    m = ``history_size`` pairs s_k = theta_{k+1} - theta_k, y_k = g_{k+1} - g_k
    (kept only when y^T s > 1e-10), the two-loop recursion gives
    d = -H g with H the L-BFGS inverse-Hessian estimate whose initial scaling
    is gamma = s^T y / y^T y; then theta <- theta + t d with t = lr (the first
    iteration ever uses min(1, 1/|g|_1) lr), or t from a strong-Wolfe line
    search (Nocedal and Wright Algorithms 3.5-3.6) when ``line_search_fn=
    "strong_wolfe"``. Iterations stop when the largest gradient entry is at
    most ``tolerance_grad``, or the step or loss change is below
    ``tolerance_change``, or ``max_eval`` evaluations are spent.

    Only one parameter group is supported; ``closure`` is required and must
    clear the gradients, compute the loss, call backward and return the loss.

    Args:
        params: parameters (one group).
        lr: step length (default 1).
        max_iter: iterations per step (default 20).
        max_eval: loss evaluations per step (default max_iter * 5 // 4).
        tolerance_grad: first-order optimality tolerance (default 1e-7).
        tolerance_change: step and loss change tolerance (default 1e-9).
        history_size: m (default 100).
        line_search_fn: "strong_wolfe" or None.

    Example:
        >>> opt = LBFGS(model.parameters(), line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = loss_fn(model(x), y)
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure)
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_nonnegative("lr", group["lr"])
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 1)")
        check_nonnegative("tolerance_grad", group["tolerance_grad"])
        check_nonnegative("tolerance_change", group["tolerance_change"])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"Invalid line_search_fn: {group['line_search_fn']!r} "
                             "(expected 'strong_wolfe' or None)")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ------------------------------------------------------- flat vectors
    def _flat_grad(self) -> Any:
        xp = array_module(self._params[0].array)
        parts = [xp.zeros(p.array.size, p.array.dtype) if p.grad is None else p.grad.array.ravel()
                 for p in self._params]
        return xp.concatenate(parts)

    def _add_grad(self, t: float, d: Any) -> None:
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += t * d[offset:offset + n].reshape(p.array.shape)
            p._version += 1
            offset += n

    def _set_params(self, values: list) -> None:
        for p, v in zip(self._params, values):
            p.array[...] = v
            p._version += 1

    # ------------------------------------------------------- step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; returns the first loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model, calls "
                               "backward and returns the loss")
        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        xp = array_module(flat_grad)
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss

        d = _unwrap(state.get("d"))
        t = state.get("t")
        old_dirs = [s.array for s in state.get("old_dirs", [])]
        old_stps = [s.array for s in state.get("old_stps", [])]
        ro = list(state.get("ro", []))
        h_diag = state.get("H_diag")
        prev_flat_grad = _unwrap(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y.dot(s))
                if ys > 1e-10:  # keep the pair only where curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y.dot(y))
                # two-loop recursion: d = -H g
                al = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i].dot(q)) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i].dot(r)) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tolerance_change:  # not a descent direction
                break

            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                x_init = [p.array.copy() for p in self._params]

                def obj_func(step: float, x_init: list = x_init, d: Any = d) -> tuple[float, Any]:
                    self._add_grad(step, d)
                    value = float(self._evaluate(closure))
                    grad = self._flat_grad()
                    self._set_params(x_init)
                    return value, grad

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(self._evaluate(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = _wrap(d)
        state["t"] = t
        state["old_dirs"] = [Tensor._make(a) for a in old_dirs]
        state["old_stps"] = [Tensor._make(a) for a in old_stps]
        state["ro"] = ro
        state["H_diag"] = h_diag
        state["prev_flat_grad"] = _wrap(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return orig_loss


def _wrap(array: Any) -> Tensor | None:
    return None if array is None else Tensor._make(array)


def _unwrap(value: Any) -> Any:
    return None if value is None else value.array
