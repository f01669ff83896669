"""The `accounting` policy: what a bookkeeper or accountant needs, and nothing more."""

TOML = """\
[policy]
name = "accounting"
description = \"\"\"For an accountant: clients as invoiced (name, company, country), issued \
invoices, their lines and succeeded payments, with amounts, dates and the provider references \
that reconcile payouts. No contact details, notes, ratings, tags, subscriptions, messages or \
comments; memos are redacted.\"\"\"
ids = "keep"

[classes]
identifier = "drop"
quasi_identifier = "drop"
free_text = "drop"
financial = "keep"
# provider references reconcile the books with payout reports (payment intents, charges)
reference = "keep"
label = "drop"
none = "keep"

[fields]
"clients.name" = "keep"
"clients.company" = "keep"
# the country decides where VAT is due
"clients.address" = "generalize"
"clients.rating" = "drop"
# reverse charge and exemptions decide the VAT on an invoice; a late payer's flag does not
"clients.delinquent" = "drop"
"clients.workflow_state" = "drop"
"invoices.customer_name" = "keep"
"invoices.description" = "redact"
"invoice_lines.description" = "redact"
# the number printed on the invoice is what the books record
"invoices.number" = "keep"
# provider references reconcile the books with payout reports, which name invoices, charges
# and payment intents
"invoices.source_id" = "keep"
"payments.source_id" = "keep"
# the invoice's own reference reconciles it; which subscription produced it is the business's
# concern, not the books'
"invoices.subscription_id" = "drop"
# evidence of the place of supply for VAT on card payments
"payments.card_country" = "keep"
# only succeeded payments leave, so a failure code says nothing here
"payments.failure_code" = "drop"
# the provider API version a row was read under is no bookkeeping record
"*.source_version" = "drop"

[rows]
entities = ["clients", "invoices", "invoice_lines", "payments"]
# drafts are not bookkeeping records; failed or pending payments moved no money
status = { invoices = ["open", "paid", "uncollectible", "void"], payments = ["succeeded"] }
"""
