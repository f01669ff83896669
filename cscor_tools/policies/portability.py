"""The `portability` policy: everything of the owner's data, as stored, and no secrets."""

TOML = """\
[policy]
name = "portability"
description = \"\"\"Everything the workspace holds, as stored: for moving to another tool or \
answering an access request. Secret fields (payment links) never leave, as under any policy.\"\"\"
ids = "keep"

[classes]
identifier = "keep"
quasi_identifier = "keep"
free_text = "keep"
financial = "keep"
reference = "keep"
label = "keep"
none = "keep"
"""
