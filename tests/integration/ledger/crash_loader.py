"""A client that loads transfers into a ledger until it is killed (used by the crash test).

    python -m tests.integration.ledger.crash_loader DATABASE_URL ACCOUNT_ID...

Loops forever over linked batches of two transfers between random accounts and prints
`ACK <id> <id>` after each commit, flushed: a line printed is a transfer acknowledged.
"""

from __future__ import annotations

import random
import sys
import uuid

from ledger import errors as E
from ledger import service as ledger
from ledger.entries import Transfer
from ledger.transactions import Initiator
from storage.db import Database


def main() -> None:
    url, accounts = sys.argv[1], [int(a) for a in sys.argv[2:]]
    db = Database(url)
    rnd = random.Random()
    run = uuid.uuid4().hex[:8]
    n = 0
    print("READY", flush=True)
    while True:
        a, b, c = rnd.sample(accounts, 3)
        ids = (f"{run}-{n}-a", f"{run}-{n}-b")
        n += 1
        try:
            ledger.submit(db.uow, [Transfer(ids[0], "transfer", a, b, rnd.randint(1, 50)),
                                   Transfer(ids[1], "transfer", b, c, rnd.randint(1, 50))],
                          initiator=Initiator.ENTERPRISE, actor="loader")
        except E.LedgerRejection:
            continue
        print("ACK", *ids, flush=True)


if __name__ == "__main__":
    main()
