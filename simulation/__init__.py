"""Market simulation (issue 21): enterprises as agents with marginal abatement cost curves trade
their permitted quantities through the real order book (`trading.book`) and buy the reserve
in the real auction clearing (`trading.auction`), in memory, over simulated trading days.

Pure core (stdlib, numpy, `kernel`, the trading and allocation cores): `mac` (the versioned
curve table, `params/`), `population` (agents from a scenario run), `engine` (the simulated
days, deterministic by seed), `outcomes` (what analysts see, over seeds). Around it:
`least_cost` (the LP benchmark, HiGHS), `sweep` (many seeds on Dask through the sweep
runner's cluster), `calibration` (prices against DOMAIN.md section 4), and the stored runs
(`tables`, `store`, `service`). See docs/simulation.md.
"""
