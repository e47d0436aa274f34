"""Compliance: execution reports, environmental protection tax, statistics and the annual
true-up of rights against actual emissions (DOMAIN.md §3, §5)."""
