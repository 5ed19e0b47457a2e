"""The submodels of docs/ODD.md section 7, one file each, both engines side by side.

========  ====================================  ================================
section   submodel                              file
========  ====================================  ================================
7.1       peer signal (and the month's signals)  ``submodels/signal.py``
7.2       decision rules                        ``submodels/decision.py``
7.3       mining                                ``submodels/mining.py``
7.4       reserve purchases and sales           ``submodels/reserve.py``
7.5       IMF pressure and audits               ``submodels/imf.py``
7.6       price, supply and hashrate            ``world.py``
7.7       dated events                          ``submodels/events.py``
========  ====================================  ================================

Each file holds the vectorised function (arrays with nations on the last axis) and the
scalar reference a :class:`~adoption_model.agents.Nation` agent runs for itself. The
policy state is written only by the transitions in :mod:`adoption_model.state`.
"""
