"""The built-in minimization policies, named by purpose, each kept as the TOML a user would write.

They are Python modules holding TOML text rather than ``.toml`` files so that they travel with
the package however it is installed, and they are read through the same parser and checks as a
custom policy file: there is one door for policies. ``cscor export --show-policy NAME`` prints
one, a good start for a custom policy (``extends = "NAME"`` builds on it).
"""

from __future__ import annotations

from cscor_tools.policies import accounting, portability, pseudonymized

#: built-in policy name -> its TOML text
BUILTIN: dict[str, str] = {
    "portability": portability.TOML,
    "pseudonymized": pseudonymized.TOML,
    "accounting": accounting.TOML,
}

__all__ = ["BUILTIN"]
