"""Ledger: the double-entry registry of emission rights and money.

It knows nothing of trading or permits: a permit's cap reaches it as an account's upper limit,
a trade as a linked batch of transfers with a reference.
"""
