#!/usr/bin/env bash
# Run the example site on SQLite with SCIM enabled for two teams and print a
# fresh bearer token for each. Called by `make demo` (which installs first).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
HOST="${DEMO_HOST:-127.0.0.1}"
PORT="${DEMO_PORT:-8000}"
BASE_URL="http://$HOST:$PORT/scim/v2"
# The site's own SCIM base URL (SCIM_PROVISIONING_BASE_URL): "Check connection" calls it.
export DEMO_SCIM_BASE_URL="$BASE_URL"

# The demo always uses the default SQLite database (example_project/db.sqlite3).
unset DATABASE_URL

"$PY" manage.py migrate --noinput
seeded="$("$PY" manage.py seed_demo)"
echo "$seeded"

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT

echo
for team in acme globex; do
    # scim_token prints the plaintext token as the last line of its stdout;
    # its stderr (a "copy it now" notice) is shown only if it fails.
    if ! token="$("$PY" manage.py scim_token issue --team "$team" 2>"$errors" | tail -n 1)" \
        || [ -z "$token" ]; then
        cat "$errors" >&2
        echo "Could not issue a SCIM token for team $team" >&2
        exit 1
    fi
    echo "Team $team"
    echo "  SCIM base URL: $BASE_URL"
    echo "  Bearer token:  $token"
    echo "  Try: curl -H \"Authorization: Bearer $token\" $BASE_URL/Users"
    echo
done
# seed_demo gives the owners a demo-only password and prints "Owner of acme: EMAIL / PASSWORD".
owner="$(sed -n 's/^Owner of acme: //p' <<<"$seeded")"
echo "Sign in as acme's owner: http://$HOST:$PORT/accounts/login/"
echo "  Email:    ${owner%% / *}"
echo "  Password: ${owner#* / }"
echo "  (then the team's SCIM page: http://$HOST:$PORT/teams/acme/scim/)"
echo "Admin: http://$HOST:$PORT/admin/ (credentials printed above by seed_demo)"
echo

rm -f "$errors"
exec "$PY" manage.py runserver "$HOST:$PORT"
