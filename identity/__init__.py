"""Identity and access: users and their roles (an enterprise trader is scoped to one
enterprise), password log-in with rate limiting, server-side sessions, bearer API tokens, the
audit log, second-officer approvals and idempotency records.

Pure modules: `roles` (who may do what), `passwords` (hashing), `errors`. `store` holds all
SQL of this context; `service` holds the use cases, each one unit of work.
"""
