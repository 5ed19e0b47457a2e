"""The covariates of the logit (docs/ODD.md 7.2): FX-reserve stress, debt distress, gains.

FX stress follows the IMF's reserve-adequacy framework (ARA classes, currency unions judged
on pooled reserves), debt distress the IMF's debt-sustainability benchmarks by class; see
each function for its source. Every function is elementwise or per nation and broadcasts
over a leading replicate axis (the ensemble engine); :func:`import_cover` pools each
replicate's unions separately.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from adoption_model.state import NationState

#: Reserve-adequacy classes as coded in :attr:`NationState.ara` (state.ARA_CODES).
ADV_ISSUER, ADVANCED, EMERGING, CREDIT_CONSTRAINED = 0, 1, 2, 3
#: Months of import cover below which a credit-constrained economy is FX-stressed.
COVER_MONTHS = 3.0
#: Debt benchmarks, % of GDP, by class (debt stress is 0 at half, 1 at 1.5 times it).
DEBT_BENCHMARK_EM = 70.0  # IMF (2013) MAC DSA: high-scrutiny benchmark, emerging markets
DEBT_BENCHMARK_AE = 85.0  # IMF (2013) MAC DSA: high-scrutiny benchmark, advanced economies
DEBT_BENCHMARK_CC = 55.0  # IMF-World Bank LIC DSF (2018): PV of public debt, medium capacity
#: Number of currency-union codes (state.UNION_CODES; 0 is "no union").
N_UNIONS = 5


def fx_assessed(ara: np.ndarray, own_currency: np.ndarray, union: np.ndarray) -> np.ndarray:
    """Whose reserves are judged by import cover (IMF ARA framework, 2011-2016).

    Only emerging-market and credit-constrained economies: mature markets and reserve-
    currency issuers are not assessed against a metric (IMF 2011, 2016 guidance note).
    Currency-union members are judged at the union's central bank (their pooled cover,
    :func:`union_cover`); dollarised or euroised economies without a union have no
    exchange rate to defend and are not FX-stressed.
    """
    return (ara >= EMERGING) & (own_currency | (union > 0))


def union_cover(
    reserves_usd: np.ndarray, imports_usd_month: np.ndarray, union: np.ndarray
) -> np.ndarray:
    """Months of import cover of each union's pooled reserves (index: union code).

    The pooled reserves over the pooled imports of all members (BCEAO, BEAC, ECCB and the
    Eurosystem), summed in nation order; entry 0 (no union) is unused.
    """
    pooled_r = np.bincount(union, weights=reserves_usd, minlength=N_UNIONS)
    pooled_m = np.bincount(union, weights=imports_usd_month, minlength=N_UNIONS)
    return pooled_r / np.maximum(pooled_m, 1.0)


def import_cover(st: NationState) -> np.ndarray:
    """Months of import cover each nation is judged by: its union's pooled cover for a
    currency-union member (:func:`union_cover`), else its own.

    With ``(R, n)`` state (the ensemble engine) every replicate pools its own members, in
    nation order, so each row is its single run's cover bit for bit.
    """
    union = st.union
    own = st.reserves_usd / st.imports_usd_month
    if union.ndim == 1:
        pooled = union_cover(st.reserves_usd, st.imports_usd_month, union)[union]
    else:  # one block of union codes per replicate; bincount adds each bin in order
        key = union + N_UNIONS * np.arange(union.shape[0])[:, None]
        flat, size = key.ravel(), N_UNIONS * union.shape[0]
        pooled_r = np.bincount(flat, weights=st.reserves_usd.ravel(), minlength=size)
        pooled_m = np.bincount(flat, weights=st.imports_usd_month.ravel(), minlength=size)
        pooled = (pooled_r / np.maximum(pooled_m, 1.0))[key]
    return np.where(union > 0, pooled, own)


def fx_stress(cover_months: np.ndarray, assessed: np.ndarray | bool = True) -> np.ndarray:
    """FX-reserve stress: 0 with three or more months of import cover, 1 with none.

    The traditional rule of thumb that the IMF keeps for credit-constrained economies
    (IMF 2011, "Assessing Reserve Adequacy"; IMF 2016 guidance note: the ARA-CC model and
    3 months of imports). Emerging markets should use the ARA EM metric (exports, broad
    money, short-term debt and other liabilities), whose inputs are not in the staged
    data: they are judged by the same simpler import-cover rule. Nations not ``assessed``
    (advanced economies, reserve-currency issuers, dollarised economies; see
    :func:`fx_assessed`) have no FX stress.
    """
    stress = np.clip((COVER_MONTHS - cover_months) / COVER_MONTHS, 0.0, 1.0)
    return np.where(assessed, stress, 0.0)


def debt_benchmark(
    ara: np.ndarray, own_currency: np.ndarray, reserve_issuer: np.ndarray
) -> np.ndarray:
    """Debt benchmark (% of GDP) of each nation, ``inf`` where debt is no distress signal.

    - Reserve-currency issuers and other advanced economies that borrow in their own
      currency (the US, Japan, the UK, Switzerland, Singapore, Norway ...): none. Their debt
      is domestic-currency debt of market-access sovereigns that cannot be forced into
      default by a lack of foreign currency (Eichengreen, Hausmann & Panizza 2005 on
      "original sin"; Reinhart & Rogoff 2009 find post-war advanced-economy defaults
      essentially absent).
    - Advanced economies without their own currency (euro-area members, euroised
      microstates): 85%, the IMF (2013) market-access DSA benchmark for advanced economies;
      they borrow in a currency they do not issue (De Grauwe 2011, "The governance of a
      fragile eurozone").
    - Emerging markets: 70% (IMF 2013 MAC DSA). Credit-constrained economies: 55%, the
      IMF-World Bank LIC DSF (2018) benchmark for the present value of public debt at
      medium debt-carrying capacity.
    """
    advanced = ara <= ADVANCED
    none = advanced & own_currency
    return np.where(
        none,
        np.inf,
        np.where(
            advanced,
            DEBT_BENCHMARK_AE,
            np.where(ara == CREDIT_CONSTRAINED, DEBT_BENCHMARK_CC, DEBT_BENCHMARK_EM),
        ),
    )


def debt_stress(
    gross_pct_gdp: np.ndarray,
    net_pct_gdp: np.ndarray | float = np.nan,
    benchmark: np.ndarray | float = DEBT_BENCHMARK_EM,
) -> np.ndarray:
    """Debt distress: 0 at half the nation's benchmark, 1 at 1.5 times it, linear between.

    Net debt (gross debt less financial assets, IMF WEO) where published, else gross debt:
    net debt measures what the state owes beyond what it holds (IMF Fiscal Monitor). The
    benchmark comes from :func:`debt_benchmark` (``inf``: never stressed).
    """
    debt = np.where(np.isnan(net_pct_gdp), gross_pct_gdp, net_pct_gdp)
    finite = np.isfinite(benchmark)
    b = np.where(finite, benchmark, 1.0)
    return np.where(finite, np.clip((debt - 0.5 * b) / b, 0.0, 1.0), 0.0)


def unrealised_gain(holdings: np.ndarray, cost_basis: np.ndarray, price: float) -> np.ndarray:
    """tanh of the log gain on holdings against their cost basis (0 without holdings)."""
    ok = (holdings > 0) & (cost_basis > 0)
    out = np.zeros(np.broadcast_shapes(np.shape(holdings), np.shape(price)))
    if ok.any():  # tanh(log(1)) = 0 elsewhere: the functions run on the holders only
        value = np.broadcast_to(holdings * price, out.shape)[ok]
        out[ok] = np.tanh(np.log(value / np.broadcast_to(cost_basis, out.shape)[ok]))
    return out
