"""Stripe: customers, invoices and their lines, payments, and the change feed of events.

The package's one public name is :class:`StripeConnector`, registered under the
``cscor_tools.connectors`` entry point as ``stripe``.
"""

from __future__ import annotations

from cscor_tools.connectors.stripe.connector import API_VERSION, StripeConnector

__all__ = ["API_VERSION", "StripeConnector"]
