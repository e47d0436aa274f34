"""Compliance, penalties and disclosure: violations by article (`violations`), penalty
decisions and their publication (`penalties`, `disclosure_*`) and the administrative penalty
procedure (`penalty_procedure`, `penalty_case_*`)."""
