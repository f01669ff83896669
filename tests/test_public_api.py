"""The public Python API: every exported name resolves, it mirrors every CLI command, a script
needs nothing else, and ``import cscor_tools`` stays light."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cscor_tools as cs
from cscor_tools.cli import cli

# Each `cscor` command and the public function (or class) that does its work.
COMMANDS = {
    "init": "init_workspace",
    "connectors": "available_connectors",
    "sync": "sync_connector",
    "run": "sync_many",
    "status": "workspace_status",
    "schema": "schema_markdown",
    "import": "import_file",
    "export": "export_bundle",
    "demo": "run_demo",
    "sandbox": "Sandbox",
    "subject": "Subject",  # export_subject, erase_subject, correct_subject
    "retention": "apply_retention",
    "audit": "audit_log",
    "keys": "rotate_hash_key",
    "worker": "Queue",  # Queue(url).run_worker(...)
    "enqueue": "SyncJob",  # Queue(url).enqueue_sync(SyncJob(...))
    "jobs": "Queue",  # Queue(url).jobs(...)
}


@pytest.mark.parametrize("name", cs.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(cs, name) is not None
    assert name in dir(cs)


def test_the_export_list_has_no_duplicates() -> None:
    assert len(cs.__all__) == len(set(cs.__all__))


def test_star_import_gives_every_name() -> None:
    namespace: dict[str, object] = {}
    exec("from cscor_tools import *", namespace)
    assert set(cs.__all__) <= set(namespace)


def test_a_lazy_name_is_the_library_object_itself() -> None:
    from cscor_tools.export import export_bundle
    from cscor_tools.sandbox import Sandbox

    assert cs.export_bundle is export_bundle
    assert cs.Sandbox is Sandbox
    with pytest.raises(AttributeError, match="no_such_thing"):
        cs.no_such_thing  # noqa: B018


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_its_library_function_in_the_api(command: str) -> None:
    assert command in COMMANDS, (
        f"`cscor {command}` is new: export the library function it calls from "
        "cscor_tools/__init__.py and name it in COMMANDS"
    )
    assert COMMANDS[command] in cs.__all__


def test_importing_the_package_leaves_the_heavy_parts_unloaded() -> None:
    code = ("import sys, cscor_tools; print([m for m in "
            "('pyarrow', 'cscor_tools.export', 'cscor_tools.sandbox', 'cscor_tools.demo') "
            "if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


SCRIPT = textwrap.dedent("""
    import json
    import cscor_tools as cs

    info = cs.init_workspace("w.db")
    imported = cs.import_file("clients.csv", workspace="w.db")
    exported = cs.export_bundle("w.db", "bundle", policy="pseudonymized")
    print(json.dumps({"migrations": info.migrations_applied, "inserted": imported.inserted,
                      "rows": exported.rows, "policy": exported.policy,
                      "status": cs.workspace_status("w.db").rows["clients"]}))
""")


def test_a_script_inits_imports_and_exports_through_the_api_alone(tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text(
        "id,email,name\n1,ada@example.com,Ada\n2,bob@example.com,Bob\n"
    )
    (tmp_path / "script.py").write_text(SCRIPT)
    done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["migrations"] and summary["inserted"] == 2
    assert summary["rows"] == 2 and summary["policy"] == "pseudonymized"
    assert summary["status"] == {"rows": 2, "deleted": 0}
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["totals"]["rows"] == 2
    clients = (tmp_path / "bundle" / "clients.jsonl").read_text()
    assert len(clients.splitlines()) == 2
    assert "ada@example.com" not in clients  # pseudonymized: identifiers never leave


def test_a_missing_credential_names_its_config_section_and_variable() -> None:
    err = cs.MissingCredentialError("Stripe", "STRIPE_API_KEY", connector="stripe")
    message = str(err)
    assert "STRIPE_API_KEY" in message
    assert '[connectors.stripe] credential_env = "VAR"' in message
    assert "Stripe.credential_env" not in message
    assert err.exit_code == cs.ExitCode.CONFIG


def test_a_missing_credential_from_a_sync_names_the_variable_never_a_value(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "cscor.toml"
    config_file.write_text('[connectors.stripe]\ncredential_env = "ACME_STRIPE_KEY"\n')
    secret = "sk_live_do_not_print_me"
    with pytest.raises(cs.MissingCredentialError) as caught:
        cs.sync_connector("stripe", workspace=str(tmp_path / "w.db"),
                          config=cs.load_config(config_file), env={"STRIPE_API_KEY": secret})
    message = str(caught.value)
    assert "ACME_STRIPE_KEY" in message and caught.value.env_var == "ACME_STRIPE_KEY"
    assert secret not in message
    assert "[connectors." in message and 'credential_env = "VAR"' in message
    assert "Stripe.credential_env" not in message
