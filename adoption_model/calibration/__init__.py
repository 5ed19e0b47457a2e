"""Estimation of the model from the historical record.

- :mod:`adoption_model.calibration.panel`: the shipped nation-month panel (reader, finder of
  the raw data for rebuilds);
- :mod:`adoption_model.calibration.likelihood`: the closed-form likelihood of the logit
  decision rule on the observed history, maximum likelihood and a Bayesian posterior.

The method and its assumptions are documented in ``docs/calibration.md``.
"""
