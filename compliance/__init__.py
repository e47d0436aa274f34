"""Compliance, in four subpackages with the pure/store/service shape of the other contexts:
`reporting` (execution reports, the environmental protection tax, statistics, the annual
true-up), `supervision` (monitoring data and its screening), `alerting` (heavy-pollution alerts
and problem clues) and `enforcement` (violations, penalty decisions and disclosure, the
administrative penalty procedure). `errors`, `parameters` and the workbench counts are shared."""
