"""Guards: a run that would go non-finite stops with one line; children die with their parent.

:func:`checked_step` wraps the model's ``step``. After every step it reads the row the
recorder has just written (price, supply, hashrate and the sums of every nation's holdings,
reserves, mining and this month's flows: a NaN or infinity in any nation shows up in its
sum) and the fleet efficiency. If one is not finite, or the step raised an arithmetic error
(``math.exp`` overflows with an ``OverflowError``), it raises
:class:`~adoption_model.errors.InputError` naming the step, the quantity and the parameters
that drive it. The check costs about a microsecond a step (``benchmarks/bench_guards.py``
prints its share of a step).

:func:`die_with_parent` asks Linux to kill the calling process when its parent dies
(``prctl(PR_SET_PDEATHSIG, SIGKILL)``), so worker processes and servers started by a
command never outlive it, even after ``kill -9``. Elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from adoption_model.errors import InputError

#: recorded quantity -> the parameters that drive it (named in the error).
DRIVERS: dict[str, str] = {
    "btc_price": "price.drift, price.volatility, price.kappa or a price_shock event",
    "supply_btc": "mining.subsidy_btc or mining.blocks_per_month",
    "network_hashrate_ehs": "mining.hashrate_growth",
    "btc_sovereign": "adoption.target_share, buy events (btc) or the price",
    "fx_reserves_usd": "adoption.target_share, IMF programmes (imf.*) or the price",
    "mining_mw": "mine or energy events (mw)",
    "btc_bought": "adoption.target_share, adoption.purchase_months or buy events",
    "btc_mined": "mining parameters or the price",
    "btc_sold": "selling.months or sell events",
    "fleet_efficiency_j_per_th": "mining.efficiency_improvement",
}
#: Columns of the model frame the guard checks (the recorder has just summed the nations).
RECORDED = tuple(k for k in DRIVERS if k != "fleet_efficiency_j_per_th")

_ARITHMETIC = (OverflowError, ZeroDivisionError, FloatingPointError)


def _quantities(model: Any) -> dict[str, float]:
    """This step's recorded totals (a NaN or inf in any nation shows in its sum)."""
    rec, w = model.recorder, model.world
    i = rec.rows - 1
    out = {c: float(rec.model[c][i]) for c in RECORDED}
    out["fleet_efficiency_j_per_th"] = w.efficiency_j_per_th
    return out


def check_finite(model: Any) -> None:
    """Raise a one-line InputError if a recorded price, stock or flow of ``model`` is not finite.

    Reads the row the recorder has just written: about ten numbers, a microsecond or two.
    """
    r, i = model.recorder.model, model.recorder.rows - 1
    total = model.world.efficiency_j_per_th
    for c in RECORDED:
        total += r[c][i]
    if math.isfinite(total):
        return
    for name, value in _quantities(model).items():
        if not math.isfinite(value):
            _fail(model, name, f"became {value}")
    _fail(model, "btc_price", "left the floating-point range")  # finite parts, infinite sum


def _when(model: Any) -> str:
    """``step N (YYYY-MM)`` of the model's current step, for the guard's messages."""
    step = int(getattr(model, "steps", 0))
    return f"step {step} ({getattr(getattr(model, 'world', None), 'date', '?')})"


def _fail(model: Any, name: str, what: str) -> None:
    raise InputError(
        f"{_when(model)}: {name} {what}; the parameters that drive it "
        f"({DRIVERS.get(name, 'see docs/ODD.md')}) are too extreme for this run; "
        "lower them or the number of steps"
    )


def checked_step(step: Callable[[Any], None]) -> Callable[[Any], None]:
    """Decorate a model's ``step`` with :func:`check_finite` and arithmetic-error capture."""

    @functools.wraps(step)
    def guarded(model: Any) -> None:
        try:
            step(model)
        except InputError:
            raise
        except _ARITHMETIC as exc:
            _fail_arith(model, exc)
        except ValueError as exc:  # math.log of a price or hashprice that reached 0 or inf
            if "math domain error" not in str(exc):
                raise
            _fail_arith(model, exc)
        check_finite(model)

    return guarded


def _fail_arith(model: Any, exc: BaseException) -> None:
    raise InputError(
        f"{_when(model)}: arithmetic {type(exc).__name__} ({exc}); the price or mining "
        f"parameters ({DRIVERS['btc_price']}; {DRIVERS['network_hashrate_ehs']}) are too extreme "
        "for this run; lower them or the number of steps"
    ) from None


def check_batch_size(size: int | None, flag: str = "--batch-size") -> int | None:
    """Refuse a batch size below 1 with one line (None: chosen automatically)."""
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f"{flag} {size}: give at least 1 (1 runs every run alone)")
    return size


def check_seed(seed: int | None, flag: str = "--seed") -> int | None:
    """Refuse a negative or oversized seed with one line (numpy needs 0 <= seed)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2**63 - 1:
        raise InputError(f"{flag} {seed}: give a whole number between 0 and 2**63 - 1")
    return seed


# -- processes that die with their parent ---------------------------------------------
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Make the kernel SIGKILL this process when its parent exits (Linux; no-op elsewhere).

    ``parent`` is the pid the caller expects as parent; if the parent is already gone
    (re-parented before the call), the process exits at once.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - exotic libc
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def child_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child dies with this process."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    return functools.partial(die_with_parent, parent)
