"""Runs one sandbox server in this process until stdin closes or the process is interrupted.

``Sandbox(process=True)`` starts this module with ``--config-json`` and reads one JSON line
(``{"url": …, "port": …}``) from stdout once the world is generated and the port is open;
closing the child's stdin stops it, so an orphaned server never outlives its parent.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading

from cscor_tools.sandbox.app import SandboxApp
from cscor_tools.sandbox.config import CREDENTIALS_ENV, SandboxConfig, accepted_credentials
from cscor_tools.sandbox.server import SandboxServer
from cscor_tools.sandbox.world import World


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cscor_tools.sandbox")
    parser.add_argument("--config-json", required=True, help="a SandboxConfig as JSON")
    args = parser.parse_args(argv)
    config = SandboxConfig.from_dict(json.loads(args.config_json))
    credentials = json.loads(os.environ.get(CREDENTIALS_ENV, "{}"))
    app = SandboxApp(World(config), config.knobs, accepted_credentials(credentials))
    # This process lives for the world: move it out of the collector's sight for good, so
    # collections while serving do not walk hundreds of thousands of objects again and again.
    gc.freeze()
    server = SandboxServer(app, config.port)
    stopped = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed our stdin or went away
        stopped.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.start_background()
    sys.stdout.write(json.dumps({"url": server.url, "port": server.port}) + "\n")
    sys.stdout.flush()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
