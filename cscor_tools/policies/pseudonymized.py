"""The `pseudonymized` policy: joinable for analytics, but naming nobody."""

TOML = """\
[policy]
name = "pseudonymized"
description = \"\"\"Joinable but not identifying: for analytics tools and processors. \
Identifiers and ids become HMAC-SHA256 pseudonyms under the workspace key (one person, one \
pseudonym, in every entity and every export made with that key); addresses become countries; \
other quasi-identifiers and all free text are dropped, since names written in prose cannot be \
found reliably.\"\"\"
ids = "hash"

[classes]
identifier = "hash"
quasi_identifier = { action = "generalize", otherwise = "drop" }
free_text = "drop"
financial = "keep"
none = "keep"

[fields]
# The (pseudonymized) workspace id carries every join; the provider's own id would only link
# a row back to the provider account.
"*.source_id" = "drop"
"""
