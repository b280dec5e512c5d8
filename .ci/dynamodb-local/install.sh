#!/usr/bin/env bash
# Installs DynamoDB Local (software.amazon.dynamodb:DynamoDBLocal from Maven Central, pinned in
# pom.xml beside this script) into .emulators/dynamodb-local/ for tests and `make emulators`.
# Needs Java 17 (javac too: the loopback launcher is compiled here) and Maven.
# Idempotent: does nothing when the installed copy matches pom.xml and the launcher.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="${DYNAMODB_LOCAL_DIR:-$root/.emulators/dynamodb-local}"

for tool in java javac mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install.sh: $tool not found; install Java 17 and Maven (Debian: apt-get install -y openjdk-17-jdk-headless maven)" >&2
    exit 1
  fi
done

stamp="$(cat "$here/pom.xml" "$here/LoopbackServerRunner.java" | sha256sum | cut -c1-16)"
if [[ -f "$dest/.installed" && "$(cat "$dest/.installed")" == "$stamp" ]]; then
  exit 0
fi

echo "installing DynamoDB Local into $dest"
rm -rf "$dest"
mkdir -p "$dest/classes"
# copy-dependencies also brings sqlite4java's native libraries (.so/.dylib/.dll) into $dest,
# which is where -Dsqlite4java.library.path points.
# (sed: Maven prints colour resets even in batch mode.)
mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dest" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
javac -nowarn -cp "$dest/*" -d "$dest/classes" "$here/LoopbackServerRunner.java"
echo "$stamp" >"$dest/.installed"
