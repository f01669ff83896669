"""The `pseudonymized` policy: joinable for analytics, but naming nobody."""

TOML = """\
[policy]
name = "pseudonymized"
description = \"\"\"Joinable but not identifying: for analytics tools and processors. \
Identifiers, ids, provider references and tags become HMAC-SHA256 pseudonyms under the \
workspace key (one value, one pseudonym, in every entity and every export made with that key); \
addresses become countries; provider ids nothing joins on, invoice numbers, other \
quasi-identifiers and all free text are dropped, since names written in prose cannot be found \
reliably.\"\"\"
ids = "hash"

[classes]
identifier = "hash"
quasi_identifier = { action = "generalize", otherwise = "drop" }
free_text = "drop"
financial = "keep"
# Provider references that group rows (the invoices of one subscription, the charges of one
# payment intent, the messages of one conversation or thread) would open the provider's record
# as they are; their pseudonyms still group and join.
reference = "hash"
# Written by the owner: a label or project name may name a client. Pseudonyms keep the
# grouping, and the owner can hash a known label with the key to find its group.
label = "hash"
none = "keep"

[fields]
# The (pseudonymized) workspace id carries every join; the provider's own id would only link
# a row back to the provider account.
"*.source_id" = "drop"
# The hashed full name and email carry every join; given and family names add none, and
# pseudonyms of values this common give way to counting how often each one occurs.
"contacts.first_name" = "drop"
"contacts.last_name" = "drop"
"""
