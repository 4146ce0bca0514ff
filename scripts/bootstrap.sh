#!/usr/bin/env bash
# Installs everything boxoffice needs on a fresh Debian machine, idempotently:
# Debian packages (PostgreSQL, Java, Maven), the project virtualenv, then the stack's
# own downloads (Maven jars for Kafka/Connect/Debezium, Superset's virtualenv).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

PG_MAJOR="${BOXOFFICE_POSTGRES_MAJOR:-15}"
need_apt=()
[ -x "/usr/lib/postgresql/${PG_MAJOR}/bin/postgres" ] || need_apt+=("postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}")
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need_apt+=(maven)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ "${BOXOFFICE_BROWSER_TESTS:-1}" = 1 ]; then
  command -v chromium >/dev/null || need_apt+=(chromium chromium-driver)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  say "creating the project virtualenv (.venv)"
  python3 -m venv .venv
fi
stamp=.venv/.boxoffice-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing boxoffice and its test tools into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi

say "installing the stack's components (Maven jars, Superset virtualenv)"
.venv/bin/boxoffice stack install
say "bootstrap done"
