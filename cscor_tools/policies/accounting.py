"""The `accounting` policy: what a bookkeeper or accountant needs, and nothing more."""

TOML = """\
[policy]
name = "accounting"
description = \"\"\"For an accountant: clients as invoiced (name, company, country), issued \
invoices, their lines and succeeded payments, with amounts, dates and provider references. \
No contact details, notes, ratings, messages or comments; memos are redacted.\"\"\"
ids = "keep"

[classes]
identifier = "drop"
quasi_identifier = "drop"
free_text = "drop"
financial = "keep"
none = "keep"

[fields]
"clients.name" = "keep"
"clients.company" = "keep"
# the country decides where VAT is due
"clients.address" = "generalize"
"clients.rating" = "drop"
"clients.workflow_state" = "drop"
"clients.tags" = "drop"
"invoices.customer_name" = "keep"
"invoices.description" = "redact"
"invoice_lines.description" = "redact"
# provider references reconcile the books with payout reports
"invoices.source_id" = "keep"
"payments.source_id" = "keep"
# evidence of the place of supply for VAT on card payments
"payments.card_country" = "keep"

[rows]
entities = ["clients", "invoices", "invoice_lines", "payments"]
# drafts are not bookkeeping records; failed or pending payments moved no money
status = { invoices = ["open", "paid", "uncollectible", "void"], payments = ["succeeded"] }
"""
