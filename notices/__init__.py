"""Notices: in-app notifications to users (issue 18).

A notification is written in the transaction of the event it reports (the caller's unit of
work, never a commit of its own), one row per recipient: the active users of an enterprise,
or the bureau officers who may act on an approval. The text is rendered when read, from the
event's kind and params, in the reader's language (web layer). The package sits beside the
ledger, under every context that reports events, and imports only `kernel` and `storage`.
"""
