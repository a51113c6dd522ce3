#!/usr/bin/env bash
# Runs a command against a real, throwaway Secret Service: a private D-Bus session with its own
# gnome-keyring, in a temporary HOME, so tests never touch the developer's own keychain.
# Where gnome-keyring or dbus-run-session is missing, the command runs without one and the keychain
# tests skip with a message saying so.
set -euo pipefail
if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "with-keyring: dbus-run-session or gnome-keyring-daemon not installed; running without a Secret Service" >&2
  exec "$@"
fi
keyring_home=$(mktemp -d -t cosigner-keyring.XXXXXX)
trap 'rm -rf "$keyring_home"' EXIT
export COSIGNER_TEST_KEYRING=1
HOME="$keyring_home" XDG_DATA_HOME="$keyring_home/.local/share" XDG_RUNTIME_DIR="$keyring_home" \
  dbus-run-session -- sh -c 'printf %s throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"' sh "$@"
