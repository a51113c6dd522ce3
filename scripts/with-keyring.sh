#!/usr/bin/env bash
# Runs a command against a real, throwaway Secret Service: a private D-Bus session with its own
# gnome-keyring, in a temporary HOME, so tests never touch the developer's own keychain.
# Where gnome-keyring or dbus-run-session is missing, or the keyring fails to start, it says why
# and runs the command without one: the keychain tests then skip with that reason, or fail where
# the run requires a Secret Service (COSIGNER_REQUIRE=secret-service, as .ci/run sets).
set -euo pipefail
if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "with-keyring: dbus-run-session or gnome-keyring-daemon not installed; running without a Secret Service" >&2
  exec "$@"
fi
keyring_home=$(mktemp -d -t cosigner-keyring.XXXXXX)
trap 'rm -rf "$keyring_home"' EXIT
HOME="$keyring_home" XDG_DATA_HOME="$keyring_home/.local/share" XDG_RUNTIME_DIR="$keyring_home" \
  dbus-run-session -- sh -c '
    if out=$(printf %s throwaway | gnome-keyring-daemon --unlock --components=secrets 2>&1); then
      export COSIGNER_TEST_KEYRING=1
    else
      echo "with-keyring: gnome-keyring-daemon failed to start; running without a Secret Service: $out" >&2
    fi
    exec "$@"' sh "$@"
