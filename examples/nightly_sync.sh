#!/usr/bin/env bash
# Nightly integration sync, for cron or a CI scheduler:
#   0 3 * * *  cd /srv/cscor && ./examples/nightly_sync.sh >> logs/nightly.jsonl 2>&1
#
# Credentials come from the environment (STRIPE_API_KEY, …), never from this file.
# Logs are JSON lines (one object per event) because this runs without a terminal.
# The exit code says what happened (see README: 0 ok, 9 another sync is running,
# 11 some streams failed, 12 a reconcile scan was needed, …); cron mails on non-zero.
set -uo pipefail

WORKSPACE=${CSCOR_WORKSPACE:-workspace.db}

cscor --workspace "$WORKSPACE" --log-format json sync all --json > "sync-$(date -u +%F).json"
status=$?

case $status in
  0)  echo '{"event": "nightly", "status": "ok"}' ;;
  9)  echo '{"event": "nightly", "status": "skipped", "reason": "a sync is already running"}'
      exit 0 ;;
  12) echo '{"event": "nightly", "status": "reconciled", "reason": "change feed horizon passed"}' ;;
  *)  echo "{\"event\": \"nightly\", \"status\": \"failed\", \"exit_code\": $status}" ;;
esac
exit $status
