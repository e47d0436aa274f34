"""The pure ledger core driven by a Hypothesis state machine against a tiny oracle.

The oracle keeps plain integers per account and re-states each rule in the simplest way;
the machine mirrors what `ledger.service` does around the core (idempotency, sealing the
journal). After every step: every asset sums to zero, no limited account breaks its limit,
no no-overdraft account is overdrawn, the core agrees with the oracle, the journal's chain
verifies and recomputing the journal gives back every balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from ledger import errors as E
from ledger.entries import (
    GENESIS,
    AccountState,
    Entry,
    Finished,
    JournalCheck,
    Ledger,
    Transfer,
    micros,
    replayed,
    seal,
    verify_chain,
)
from ledger.transactions import SOURCE_KINDS, TYPES, AccountKind, Initiator

K = AccountKind
T0 = datetime(2026, 3, 1, tzinfo=UTC)
RIGHT, CNY = "SO2/Z1/2026", "CNY"

# id, holder, kind, asset, upper limit
ACCOUNTS = [
    (1, "BUREAU", K.ISSUANCE, RIGHT, None),
    (2, "BUREAU", K.RESERVE, RIGHT, None),
    (3, "P1", K.CONFIRMED, RIGHT, 500),
    (4, "P1", K.TRADABLE, RIGHT, None),
    (5, "P2", K.CONFIRMED, RIGHT, 300),
    (6, "P2", K.TRADABLE, RIGHT, None),
    (7, "MKT", K.SETTLEMENT, RIGHT, None),
    (8, "P1", K.SURRENDER, RIGHT, None),
    (9, "BANK", K.ISSUANCE, CNY, None),
    (10, "E1", K.CASH, CNY, None),
    (11, "E2", K.CASH, CNY, None),
    (12, "MKT", K.SETTLEMENT, CNY, None),
]
TYPE_NAMES = ["issuance", "confirmation", "verification", "transfer", "recovery",
              "surrender", "deposit", "reserve_release", "cancellation"]


@dataclass
class OAcct:
    kind: AccountKind
    asset: str
    limit: int | None
    frozen: bool = False
    posted: int = 0  # credits - debits
    hold_out: int = 0  # debits pending
    hold_in: int = 0  # credits pending


@dataclass
class OPending:
    dr: int
    cr: int
    amount: int
    posted: int = 0
    state: str = "pending"
    timeout: datetime | None = None


@dataclass
class Oracle:
    accts: dict[int, OAcct] = field(default_factory=dict)
    pend: dict[str, OPending] = field(default_factory=dict)
    done: dict[str, tuple[str, int, int, int, datetime]] = field(default_factory=dict)
    reversed: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Oracle:
        return Oracle({k: OAcct(**vars(v)) for k, v in self.accts.items()},
                      {k: OPending(**vars(v)) for k, v in self.pend.items()},
                      dict(self.done), dict(self.reversed))

    def move_check(self, dr: int, cr: int, amt: int, passes: bool) -> str | None:
        d, c = self.accts[dr], self.accts[cr]
        if d.kind in (K.SURRENDER, K.CANCELLATION):
            return "account_closed_to_debits"
        if (d.frozen or c.frozen) and not passes:
            return "account_frozen"
        if d.kind not in SOURCE_KINDS and d.posted - d.hold_out < amt:
            return "insufficient_balance"
        if c.limit is not None and c.posted + c.hold_in + amt > c.limit:
            return "over_limit"
        return None

    def step(self, t: Transfer, who: Initiator, now: datetime) -> str | None:
        """Apply one transfer to the oracle; return the rejection code or None."""
        tt = TYPES.get(t.type)
        if tt is None:
            return "unknown_transaction_type"
        if who not in tt.initiators and not (t.phase == "expire" and who == Initiator.SYSTEM):
            return "initiator_not_allowed"
        if t.phase in ("post", "void", "expire"):
            p = self.pend.get(t.pending_id or "")
            if p is None:
                return "pending_not_found"
            if p.state != "pending":
                return {"voided": "pending_voided", "expired": "pending_expired",
                        "posted": "pending_already_posted"}[p.state]
            late = p.timeout is not None and p.timeout <= now
            if t.phase == "post" and late:
                return "pending_expired"
            if t.phase == "expire" and not late:
                return "pending_not_timed_out"
            amt = (t.amount or p.amount - p.posted) if t.phase == "post" else (
                p.amount - p.posted)
            if t.phase == "post" and t.amount < 0:
                return "non_positive_amount"
            if amt > p.amount - p.posted:
                return "post_exceeds_pending"
            self.accts[p.dr].hold_out -= amt
            self.accts[p.cr].hold_in -= amt
            if t.phase == "post":
                self.accts[p.dr].posted -= amt
                self.accts[p.cr].posted += amt
                p.posted += amt
                self.done[t.id] = (self.type_of(t.pending_id), p.dr, p.cr, amt, now)
                if p.posted == p.amount:
                    p.state = "posted"
            else:
                p.state = "voided" if t.phase == "void" else "expired"
            return None
        if t.type == "reversal":
            f = self.done.get(t.pending_id or "")
            if f is None:
                return "transfer_not_found"
            ftype, fdr, fcr, famt, fat = f
            days = TYPES[ftype].reversible_days
            if days is None:
                return "not_reversible"
            if now - fat > timedelta(days=days):
                return "reversal_window_closed"
            left = famt - self.reversed.get(t.pending_id or "", 0)
            if left <= 0:
                return "already_reversed"
            if t.amount < 0:
                return "non_positive_amount"
            amt = t.amount or left
            if amt > left:
                return "reversal_exceeds_original"
            bad = self.move_check(fcr, fdr, amt, who == Initiator.BUREAU)
            if bad:
                return bad
            self.accts[fcr].posted -= amt
            self.accts[fdr].posted += amt
            self.reversed[t.pending_id or ""] = self.reversed.get(t.pending_id or "", 0) + amt
            self.done[t.id] = ("reversal", fcr, fdr, amt, now)
            return None
        if t.amount <= 0:
            return "non_positive_amount"
        if t.debit_account not in self.accts:
            return "account_not_found"
        if t.credit_account not in self.accts:
            return "account_not_found"
        if t.debit_account == t.credit_account:
            return "same_account"
        d, c = self.accts[t.debit_account], self.accts[t.credit_account]
        if d.asset != c.asset:
            return "asset_mismatch"
        if d.kind in (K.SURRENDER, K.CANCELLATION):
            return "account_closed_to_debits"
        if (d.kind, c.kind) not in tt.pairs:
            return "account_kind_not_allowed"
        bad = self.move_check(t.debit_account, t.credit_account, t.amount,
                              tt.passes_freeze and who == Initiator.BUREAU)
        if bad:
            return bad
        if t.phase == "pending":
            d.hold_out += t.amount
            c.hold_in += t.amount
            self.pend[t.id] = OPending(t.debit_account, t.credit_account, t.amount,
                                       timeout=now + timedelta(seconds=t.timeout_s)
                                       if t.timeout_s else None)
            self.types[t.id] = t.type
        else:
            d.posted -= t.amount
            c.posted += t.amount
            self.done[t.id] = (t.type, t.debit_account, t.credit_account, t.amount, now)
        return None

    types: dict[str, str] = field(default_factory=dict)

    def type_of(self, pid: str | None) -> str:
        return self.types[pid or ""]


def _batch(oracle: Oracle, ts: list[Transfer], who: Initiator, now: datetime
           ) -> tuple[Oracle, str | None]:
    trial = oracle.copy()
    trial.types = dict(oracle.types)
    for t in ts:
        code = trial.step(t, who, now)
        if code is not None:
            return oracle, code
    return trial, None


ROUTES = [
    ("issuance", 1, 2), ("issuance", 1, 2), ("confirmation", 2, 3), ("confirmation", 2, 5),
    ("verification", 3, 4), ("verification", 5, 6), ("transfer", 4, 5), ("transfer", 6, 3),
    ("transfer", 4, 7), ("transfer", 7, 3), ("transfer", 7, 5), ("recovery", 3, 2),
    ("recovery", 4, 2), ("surrender", 3, 8), ("transfer", 8, 3), ("deposit", 9, 10),
    ("deposit", 9, 11), ("transfer", 10, 11), ("transfer", 11, 12), ("transfer", 12, 10),
    ("cancellation", 2, 8),
]
amounts = st.one_of(st.integers(1, 150), st.integers(1, 150), st.integers(1, 150),
                    st.integers(1, 600), st.integers(-2, 0))
initiators = st.sampled_from([Initiator.BUREAU] * 8 + [Initiator.ENTERPRISE, Initiator.SYSTEM])
routes = st.one_of(st.sampled_from(ROUTES), st.sampled_from(ROUTES), st.tuples(
    st.sampled_from(TYPE_NAMES), st.integers(1, 13), st.integers(1, 12)))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger({i: AccountState(i, h, k, a, upper_limit=lim)
                              for i, h, k, a, lim in ACCOUNTS})
        self.oracle = Oracle({i: OAcct(k, a, lim) for i, _h, k, a, lim in ACCOUNTS})
        self.journal: list[Entry] = []
        self.by_id: dict[str, Entry] = {}
        self.sent: dict[str, list[Transfer]] = {}  # batch key -> transfers accepted
        self.now = T0
        self.n = 0

    # -- the service's part, without a database ------------------------------------------
    def submit(self, ts: list[Transfer], who: Initiator) -> str | None:
        seen = {t.id: self.by_id[t.id] for t in ts if t.id in self.by_id}
        try:
            again = replayed(ts, seen)
        except E.IdConflict as exc:
            return f"{exc.code}:{exc.field}"
        if again is not None:
            return "replayed"
        for t in ts:  # the ledger loads what the batch acts on, as the store does
            if t.pending_id and t.pending_id in self.by_id and t.type == "reversal":
                e = self.by_id[t.pending_id]
                if e.phase in ("single", "post") and t.pending_id not in self.ledger.finished:
                    rev = sum(x.amount for x in self.journal
                              if x.type == "reversal" and x.pending_id == e.id)
                    self.ledger.finished[e.id] = Finished(e.id, e.type, e.phase,
                                                          e.debit_account, e.credit_account,
                                                          e.amount, e.created_at, rev)
        try:
            moved = self.ledger.apply_batch(ts, who, self.now)
        except E.LedgerRejection as exc:
            return exc.code
        seq, prev = (self.journal[-1].seq, self.journal[-1].hash) if self.journal else (
            0, GENESIS)
        for e in seal(ts, moved, self.ledger, seq=seq, prev_hash=prev, batch=None,
                      actor=str(who), now=self.now):
            self.journal.append(e)
            self.by_id[e.id] = e
        return None

    def _id(self) -> str:
        self.n += 1
        return f"t{self.n}"

    def _both(self, ts: list[Transfer], who: Initiator) -> None:
        before = {i: (a.balance, a.debits_pending, a.credits_pending)
                  for i, a in self.ledger.accounts.items()}
        got = self.submit(ts, who)
        new_oracle, want = _batch(self.oracle, ts, who, self.now)
        if got in ("replayed",) or (got or "").startswith("id_conflict"):
            after = {i: (a.balance, a.debits_pending, a.credits_pending)
                     for i, a in self.ledger.accounts.items()}
            assert after == before, "a repeat changed balances"
            return
        assert got == want, (ts, got, want)
        if want is None:
            self.oracle = new_oracle
            self.sent[ts[0].id] = ts

    # -- rules -----------------------------------------------------------------------------
    @initialize()
    def supply(self) -> None:
        """Issue rights into the reserve and deposit money, so that later steps can move."""
        self._both([Transfer("seed-1", "issuance", 1, 2, 1000),
                    Transfer("seed-2", "deposit", 9, 10, 5000),
                    Transfer("seed-3", "deposit", 9, 11, 5000)], Initiator.BUREAU)

    @rule(route=routes, amount=amounts, who=initiators,
          pending=st.booleans(), timeout=st.sampled_from([None, 60, 3600]))
    def transfer(self, route: tuple[str, int, int], amount: int, who: Initiator,
                 pending: bool, timeout: int | None) -> None:
        type_, dr, cr = route
        t = Transfer(self._id(), type_, dr, cr, amount, phase="pending" if pending else "single",
                     timeout_s=timeout if pending else None)
        self._both([t], who)

    @rule(route=st.sampled_from(ROUTES), amount=st.integers(1, 200),
          pending=st.sampled_from([False, False, True]))
    def bureau_move(self, route: tuple[str, int, int], amount: int, pending: bool) -> None:
        type_, dr, cr = route
        self._both([Transfer(self._id(), type_, dr, cr, amount,
                             phase="pending" if pending else "single")], Initiator.BUREAU)

    @rule(data=st.data(), size=st.integers(2, 4), who=initiators)
    def linked(self, data: st.DataObject, size: int, who: Initiator) -> None:
        ts = [Transfer(self._id(), *data.draw(routes), data.draw(amounts))
              for _ in range(size)]
        self._both(ts, who)

    @precondition(lambda self: bool(self.oracle.pend))
    @rule(data=st.data(), amount=st.sampled_from([0, 0, -1, 1, 10, 100, 300]),
          phase=st.sampled_from(
        ["post", "post", "void", "expire"]), who=initiators)
    def resolve(self, data: st.DataObject, amount: int, phase: str, who: Initiator) -> None:
        pid = data.draw(st.sampled_from(sorted(self.oracle.pend)))
        t = Transfer(self._id(), self.oracle.types[pid], 0, 0,
                     amount if phase == "post" else 0, phase=phase, pending_id=pid)
        self._both([t], who)

    @precondition(lambda self: bool(self.oracle.done))
    @rule(data=st.data(), amount=st.sampled_from([0, 0, 1, 5, 50, 300]), who=initiators)
    def reverse(self, data: st.DataObject, amount: int, who: Initiator) -> None:
        reversible = sorted(k for k, v in self.oracle.done.items()
                            if TYPES[v[0]].reversible_days is not None)
        target = data.draw(st.sampled_from(reversible or sorted(self.oracle.done)))
        self._both([Transfer(self._id(), "reversal", 0, 0, amount, pending_id=target)], who)

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data(), change=st.sampled_from([None, "amount", "reference",
                                                  "credit_account"]))
    def repeat(self, data: st.DataObject, change: str | None) -> None:
        key = data.draw(st.sampled_from(sorted(self.sent)))
        ts = list(self.sent[key])
        if change is not None:
            t = ts[0]
            # 0 (an amount or account of a post, void or expire) means "the rest" / "those
            # of the pending transfer" and matches whatever the entry recorded, so a change
            # from 0 must differ from any recorded value, not just from 0
            if change == "amount":
                t = Transfer(t.id, t.type, t.debit_account, t.credit_account,
                             t.amount + 1 if t.amount else 10**12,
                             t.phase, t.pending_id, t.reference, t.timeout_s)
            elif change == "reference":
                t = Transfer(t.id, t.type, t.debit_account, t.credit_account, t.amount,
                             t.phase, t.pending_id, "changed", t.timeout_s)
            else:
                t = Transfer(t.id, t.type, t.debit_account,
                             t.credit_account + 1 if t.credit_account else 10**6, t.amount,
                             t.phase, t.pending_id, t.reference, t.timeout_s)
            ts[0] = t
        got = self.submit(ts, Initiator.BUREAU)
        if change is None:
            assert got == "replayed"
        else:
            assert got == f"id_conflict:{change}", got

    @rule(acct=st.integers(0, 12))
    def flag(self, acct: int) -> None:
        """Freeze one account (0: none), lifting the freeze on every other."""
        for i in self.ledger.accounts:
            self.ledger.accounts[i].frozen = self.oracle.accts[i].frozen = i == acct

    @rule(seconds=st.sampled_from([1, 61, 3601, 29 * 86_400, 31 * 86_400]))
    def tick(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def sums_to_zero(self) -> None:
        for asset in (RIGHT, CNY):
            assert sum(a.balance for a in self.ledger.accounts.values()
                       if a.asset == asset) == 0

    @invariant()
    def limits_hold(self) -> None:
        for a in self.ledger.accounts.values():
            if a.upper_limit is not None:
                assert a.balance + a.credits_pending <= a.upper_limit
            if a.no_overdraft and a.kind not in SOURCE_KINDS:
                assert a.available >= 0

    @invariant()
    def agrees_with_oracle(self) -> None:
        for i, a in self.ledger.accounts.items():
            o = self.oracle.accts[i]
            assert (a.balance, a.debits_pending, a.credits_pending) == (
                o.posted, o.hold_out, o.hold_in), i

    @invariant()
    def journal_recomputes(self) -> None:
        assert verify_chain(self.journal) == (True, None, "intact")
        check = JournalCheck()
        check.run((e.seq, e.id, e.batch, e.type, e.phase, e.pending_id, e.debit_account,
                   e.credit_account, e.asset, e.amount, e.reference, e.initiator,
                   micros(e.created_at), None if e.timeout_at is None else micros(e.timeout_at),
                   e.prev_hash, e.hash, e.hash_version) for e in self.journal)
        assert check.first_bad is None
        assert check.compare(self.ledger.accounts.values()) == []


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=200, stateful_step_count=50, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
