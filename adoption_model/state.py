"""Nation state held as arrays on the model (one entry per nation), and its transitions.

The vectorised engine updates these arrays in one synchronous step; the Mesa ``Nation``
agents are thin views whose attributes read and write their entry. The transitions
(:meth:`NationState.start_reserve`, :meth:`~NationState.start_mining`,
:meth:`~NationState.stop_mining`, :meth:`~NationState.leave_reserve`,
:meth:`~NationState.start_sale`, :meth:`~NationState.start_seized_sale`,
:meth:`~NationState.end_sale`, :meth:`~NationState.sell_out`,
:meth:`~NationState.start_programme`, :meth:`~NationState.pay`,
:meth:`~NationState.start_imf_programme`, :meth:`~NationState.suspend_imf_programme` and
:meth:`~NationState.end_imf_programme`) are the only code that writes the policy state (docs/ODD.md
section 2); decisions, acts and dated events all go through them, and both engines call the
very same methods (the vectorised engine with index arrays, an agent with its own index).

``sel`` selects nations along the last axis: an integer, an index array or a boolean mask.
Every transition is written with ``array[sel]``, so a boolean mask of the full shape also
works for state arrays with a leading replicate axis ``(R, n)``.

Policy states are coded for output and the view:

=====  =========  ===========================================
code   name       meaning
=====  =========  ===========================================
0      none       no reserve, no mining
1      reserve    holds a strategic reserve (accumulating or holding)
2      mining     mines with surplus energy, no reserve policy
3      both       reserve and mining
4      sold out   decided to sell its holdings (and neither holds a reserve nor mines)
=====  =========  ===========================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

STATE_NAMES = ("none", "reserve", "mining", "both", "sold out")

#: A selection of nations along the last axis: an index, an index array, a mask or a slice.
Sel = int | slice | np.ndarray


#: Reserve-adequacy classes, coded 0..3 in :attr:`NationState.ara` (nations.ARA_CLASSES).
ARA_CODES = {
    "advanced_reserve_issuer": 0,
    "advanced": 1,
    "emerging_market": 2,
    "low_income_or_credit_constrained": 3,
}
#: Currency unions, coded in :attr:`NationState.union` (0: none).
UNION_CODES = {"": 0, "EUR": 1, "WAEMU": 2, "CEMAC": 3, "ECCU": 4}


def institution_codes(nations: pd.DataFrame) -> dict[str, np.ndarray]:
    """Integer and flag codes of the institution columns of a nation table.

    ``ara`` codes the reserve-adequacy class (:data:`ARA_CODES`; a table without the
    column is coded emerging market), ``union`` the currency union (:data:`UNION_CODES`),
    ``own_currency`` whether the nation issues its own currency (not dollarised or
    euroised, not a union member) and ``reserve_issuer`` whether it issues a currency IMF
    COFER lists. Also used on the historical panel (calibration/likelihood.py).
    """
    n = len(nations)

    def text(name: str, default: str) -> np.ndarray:
        if name not in nations:
            return np.full(n, default, dtype=object)
        return nations[name].fillna("").astype(str).to_numpy()

    ara = _codes(text("ara_class", "emerging_market"), ARA_CODES)
    union = _codes(text("currency_union", ""), UNION_CODES)
    regime = text("currency_regime", "own_float")
    own = ~np.isin(regime, ("dollarised_or_euroised", "currency_union"))
    issuer = (
        nations["reserve_currency_issuer"].fillna(False).to_numpy(dtype=bool).copy()
        if "reserve_currency_issuer" in nations
        else np.zeros(n, dtype=bool)
    )
    return {"ara": ara, "union": union, "own_currency": own, "reserve_issuer": issuer}


def _codes(values: np.ndarray, codes: dict[str, int]) -> np.ndarray:
    """``[codes[v] for v in values]`` as int64, looking each distinct value up once."""
    inverse, uniq = pd.factorize(values)
    return np.array([codes[str(u)] for u in uniq], dtype=np.int64)[inverse].reshape(-1)


@dataclass
class NationState:
    """Per-nation arrays. Static attributes first, then the dynamic state."""

    # static (from the nation table; energy and mandates may change through events)
    gdp_usd: np.ndarray
    population: np.ndarray
    debt_pct_gdp: np.ndarray
    imports_usd_month: np.ndarray
    energy_cost_usd_mwh: np.ndarray
    credit_pct_quota: np.ndarray
    programme: np.ndarray
    energy_surplus_mw: np.ndarray
    seized_mandate: np.ndarray
    no_sell: np.ndarray
    threshold: np.ndarray
    # institutions, sanctions and legal status (docs/ODD.md 7.2; events may change the last
    # three): see :func:`institution_codes`
    net_debt_pct_gdp: np.ndarray
    ara: np.ndarray
    union: np.ndarray
    own_currency: np.ndarray
    reserve_issuer: np.ndarray
    sanctions_exposure: np.ndarray
    absolute_ban: np.ndarray
    mining_ban: np.ndarray
    imf_member: np.ndarray
    imf_quota_usd: np.ndarray
    # dynamic
    reserve: np.ndarray
    mining: np.ndarray
    selling: np.ndarray
    sold_out: np.ndarray
    holdings: np.ndarray
    #: holdings by origin (seized + mined + bought = holdings, up to rounding)
    seized_btc: np.ndarray
    mined_btc: np.ndarray
    bought_btc: np.ndarray
    cost_basis_usd: np.ndarray
    reserves_usd: np.ndarray
    mining_mw: np.ndarray
    accumulating: np.ndarray
    target_share: np.ndarray
    buy_usd_month: np.ndarray
    program_btc_month: np.ndarray
    program_months_left: np.ndarray
    sell_btc_month: np.ndarray
    seized_sale: np.ndarray
    negative_months: np.ndarray
    # the IMF programme (docs/ODD.md 7.5); steps are model steps
    imf_financing: np.ndarray
    imf_suspended: np.ndarray
    imf_end: np.ndarray
    imf_next_review: np.ndarray
    imf_undisbursed_usd: np.ndarray
    imf_lost_usd: np.ndarray
    #: everything the nation's programmes were to disburse in the run (at the start, plus
    #: each new programme's post-approval tranches): the bound of ``imf_lost_usd``
    imf_scheduled_usd: np.ndarray
    imf_failures: np.ndarray
    imf_accumulated: np.ndarray
    first_adopted: np.ndarray
    policy_since: np.ndarray
    # flows of the current step
    bought: np.ndarray
    mined: np.ndarray
    sold: np.ndarray
    detected: np.ndarray
    peer: np.ndarray
    action: np.ndarray
    reviewed: np.ndarray
    imf_withheld: np.ndarray
    imf_started: np.ndarray
    imf_ended: np.ndarray

    @classmethod
    def from_table(
        cls, nations: pd.DataFrame, price: float, start: str = "2025-06", review_months: int = 6
    ) -> NationState:
        """Initial state from a nation table (see :func:`adoption_model.load_nations`).

        ``start`` is the start month (step 0): the IMF programme's end month and next review
        are counted in steps from it (reviews every ``review_months`` from the approval).
        """
        n = len(nations)

        def col(name: str, default: float = 0.0) -> np.ndarray:
            if name in nations:
                return nations[name].to_numpy(dtype=float, na_value=default).copy()
            return np.full(n, default)

        def flag(name: str) -> np.ndarray:
            if name in nations:
                return nations[name].fillna(False).to_numpy(dtype=bool).copy()
            return np.zeros(n, dtype=bool)

        holdings = col("btc_holdings")
        zeros = np.zeros(n)
        channel = (
            nations["btc_acquisition"].fillna("").astype(str).to_numpy()
            if "btc_acquisition" in nations
            else np.full(n, "")
        )
        mined0 = np.where(channel == "mined", holdings, 0.0)
        bought0 = np.where(channel == "bought", holdings, 0.0)
        seized0 = holdings - mined0 - bought0  # seized, donated, mixed: held, not bought
        fin = flag("imf_financing") if "imf_financing" in nations else flag("imf_programme_active")
        end, review = _programme_steps(nations, start, review_months)
        codes = institution_codes(nations)
        return cls(
            gdp_usd=col("gdp_usd", 1.0),
            population=col("population", 1.0),
            debt_pct_gdp=col("debt_pct_gdp"),
            imports_usd_month=np.maximum(col("imports_usd_month", 1.0), 1.0),
            energy_cost_usd_mwh=col("energy_cost_usd_mwh", 60.0),
            credit_pct_quota=col("imf_credit_pct_quota"),
            programme=flag("imf_programme_active"),
            energy_surplus_mw=col("energy_surplus_mw"),
            seized_mandate=flag("seized_sale_mandate"),
            no_sell=flag("no_sell_pledge"),
            threshold=np.full(n, np.inf),
            net_debt_pct_gdp=col("net_debt_pct_gdp", np.nan),
            **codes,
            sanctions_exposure=np.clip(col("sanctions_exposure"), 0.0, 1.0),
            absolute_ban=flag("crypto_absolute_ban"),
            mining_ban=flag("crypto_mining_ban"),
            imf_member=flag("imf_member"),
            imf_quota_usd=col("imf_quota_usd"),
            reserve=np.zeros(n, dtype=bool),
            mining=np.zeros(n, dtype=bool),
            selling=np.zeros(n, dtype=bool),
            sold_out=np.zeros(n, dtype=bool),
            holdings=holdings,
            seized_btc=seized0,
            mined_btc=mined0,
            bought_btc=bought0,
            cost_basis_usd=holdings * price,
            reserves_usd=col("reserves_usd"),
            mining_mw=zeros.copy(),
            accumulating=np.zeros(n, dtype=bool),
            target_share=zeros.copy(),
            buy_usd_month=zeros.copy(),
            program_btc_month=zeros.copy(),
            program_months_left=np.zeros(n, dtype=np.int64),
            sell_btc_month=zeros.copy(),
            seized_sale=np.zeros(n, dtype=bool),
            negative_months=np.zeros(n, dtype=np.int64),
            imf_financing=fin & (end >= 0),
            imf_suspended=np.zeros(n, dtype=bool),
            imf_end=end,
            imf_next_review=review,
            imf_undisbursed_usd=np.where(fin, col("imf_undisbursed_usd"), 0.0),
            imf_lost_usd=zeros.copy(),
            imf_scheduled_usd=np.where(fin, col("imf_undisbursed_usd"), 0.0),
            imf_failures=np.zeros(n, dtype=np.int64),
            imf_accumulated=np.zeros(n, dtype=bool),
            first_adopted=np.full(n, -1, dtype=np.int64),
            policy_since=np.full(n, -1, dtype=np.int64),
            bought=zeros.copy(),
            mined=zeros.copy(),
            sold=zeros.copy(),
            detected=np.zeros(n, dtype=bool),
            peer=zeros.copy(),
            action=np.zeros(n, dtype=np.int64),
            reviewed=np.zeros(n, dtype=bool),
            imf_withheld=zeros.copy(),
            imf_started=np.zeros(n, dtype=bool),
            imf_ended=np.zeros(n, dtype=bool),
        )

    @property
    def adopted(self) -> np.ndarray:
        """Holds a reserve or mines: what neighbours count as adoption (docs/ODD.md 7.1)."""
        return self.reserve | self.mining

    def state_code(self) -> np.ndarray:
        """Policy state codes (see the module table)."""
        code = self.reserve.astype(np.int8) + 2 * self.mining.astype(np.int8)
        return np.where((code == 0) & self.sold_out, 4, code).astype(np.int8)

    def clear_flows(self) -> None:
        """This month's flows start at zero (events and acts add to them)."""
        self.bought[...] = 0.0
        self.mined[...] = 0.0
        self.sold[...] = 0.0
        self.detected[...] = False
        self.imf_withheld[...] = 0.0
        self.imf_started[...] = False
        self.imf_ended[...] = False

    # ---- transitions: the only writers of the policy state ----------------------------
    def start_reserve(self, sel: Sel, t: int) -> None:
        """Adopt a reserve at step ``t``: from now on purchases track the target share.

        The target and each month's budget are set by the purchases themselves
        (:func:`adoption_model.submodels.reserve.buy`, docs/ODD.md 7.4).
        """
        self.reserve[sel] = True
        self.accumulating[sel] = True
        self.sold_out[sel] = False
        self.selling[sel] = False
        self.policy_since[sel] = t

    def start_mining(self, sel: Sel, t: int, mw: np.ndarray | float) -> None:
        """Start mining at step ``t`` with ``mw`` megawatts (docs/ODD.md 7.3)."""
        self.mining[sel] = True
        self.mining_mw[sel] = mw
        self.negative_months[sel] = 0
        self.policy_since[sel] = t

    def stop_mining(self, sel: Sel) -> None:
        """Stop mining after months of negative margin: the megawatts are released."""
        self.mining[sel] = False
        self.mining_mw[sel] = 0.0
        self.negative_months[sel] = 0

    def leave_reserve(self, sel: Sel, t: int) -> None:
        """Drop the reserve policy and every purchase plan at step ``t``: sold out."""
        self.reserve[sel] = False
        self.accumulating[sel] = False
        self.program_months_left[sel] = 0
        self.sold_out[sel] = True
        self.policy_since[sel] = t

    def start_sale(self, sel: Sel, t: int, months: int) -> None:
        """Leave the reserve and sell all holdings in ``months`` equal tranches.

        A nation under a seized-asset sale law that holds seized coins does not come here:
        its sale is :meth:`start_seized_sale` (the law applies to seized coins only).
        """
        self.leave_reserve(sel, t)
        self.selling[sel] = True
        self.sell_btc_month[sel] = self.holdings[sel] / months

    def sell_out(self, sel: Sel, t: int) -> None:
        """Sold at once (a dated ``sell`` event): out of the reserve, no tranches pending."""
        self.leave_reserve(sel, t)
        self.selling[sel] = False

    def end_sale(self, sel: Sel) -> None:
        """The last tranche is sold: nothing left to sell (dust below 1e-9 BTC cleared)."""
        self.holdings[sel] = 0.0
        self.cost_basis_usd[sel] = 0.0
        self.selling[sel] = False

    def start_seized_sale(self, sel: Sel, t: int) -> None:
        """A seized-asset sale law applies: this month's acts sell every seized coin at once
        (Germany, June-July 2024); mined and bought coins are kept (docs/ODD.md 7.4)."""
        self.seized_sale[sel] = True
        self.policy_since[sel] = t

    def start_programme(self, sel: Sel, btc: float, months: int) -> None:
        """A dated purchase programme: ``btc`` in equal monthly tranches over ``months``."""
        self.program_btc_month[sel] = btc / months
        self.program_months_left[sel] = months

    def pay(self, sel: Sel, usd: np.ndarray | float, price: float) -> None:
        """Buy ``usd`` worth of BTC at ``price``, paid from FX reserves (at cost)."""
        btc = usd / price
        self.holdings[sel] += btc
        self.bought_btc[sel] += btc
        self.reserves_usd[sel] -= usd
        self.cost_basis_usd[sel] += usd
        self.bought[sel] += btc

    # ---- the IMF programme (docs/ODD.md 7.5) -------------------------------------------
    def start_imf_programme(
        self, sel: Sel, t: int, size_usd: np.ndarray | float, months: int, review_months: int
    ) -> None:
        """A new financing programme approved at step ``t``: the first of its equal tranches
        is disbursed at approval, the others at reviews every ``review_months``."""
        tranches = months // review_months + 1
        self.programme[sel] = True
        self.imf_financing[sel] = True
        self.imf_suspended[sel] = False
        self.imf_end[sel] = t + months
        self.imf_next_review[sel] = t + review_months
        self.imf_undisbursed_usd[sel] = size_usd * (tranches - 1) / tranches
        self.imf_scheduled_usd[sel] += self.imf_undisbursed_usd[sel]
        self.imf_failures[sel] = 0
        self.imf_accumulated[sel] = False
        self.imf_started[sel] = True

    def suspend_imf_programme(self, sel: Sel) -> None:
        """The programme goes off track: no conditionality binds any more, and its remaining
        tranches are withheld as they fall due (docs/ODD.md 7.5)."""
        self.programme[sel] = False
        self.imf_suspended[sel] = True

    def end_imf_programme(self, sel: Sel) -> None:
        """The programme reached its end month: nothing is left to disburse."""
        self.programme[sel] = False
        self.imf_financing[sel] = False
        self.imf_suspended[sel] = False
        self.imf_undisbursed_usd[sel] = 0.0
        self.imf_accumulated[sel] = False
        self.imf_ended[sel] = True

    def names(self) -> list[str]:
        """Names of the array fields."""
        return [f.name for f in fields(self)]


#: The names of the state arrays, in order (the ensemble engine stacks them per replicate).
STATE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(NationState))


def _programme_steps(
    nations: pd.DataFrame, start: str, review_months: int
) -> tuple[np.ndarray, np.ndarray]:
    """End month and next review of each nation's IMF programme, in steps from ``start``.

    Reviews fall every ``review_months`` from the approval month; the next one is the first
    after the start month. Nations without a programme get -1 for both.
    """
    n = len(nations)
    end = np.full(n, -1, dtype=np.int64)
    review = np.full(n, -1, dtype=np.int64)
    if "imf_programme_end" not in nations:
        return end, review

    def index(text: str) -> int:
        year, month = text.split("-")
        return int(year) * 12 + int(month) - 1

    t0 = index(start)
    starts = nations["imf_programme_start"].fillna("").astype(str).to_numpy()
    ends = nations["imf_programme_end"].fillna("").astype(str).to_numpy()
    has = (starts != "") & (ends != "")  # nations with a programme

    def months(texts: np.ndarray) -> np.ndarray:  # each distinct month parsed once
        inverse, uniq = pd.factorize(texts)
        return np.array([index(str(u)) for u in uniq], dtype=np.int64)[inverse].reshape(-1)

    if has.any():
        first = months(starts[has])
        end[has] = months(ends[has]) - t0
        k = (t0 - first) // review_months + 1  # the first review after the start month
        review[has] = first + k * review_months - t0
    return end, review
