#!/usr/bin/env bash
# Compile android_demo/core with the pinned kotlinc (npm: kotlin-compiler, see package.json), run its JUnit 4
# tests against the golden vectors, and lint core + app with ktlint. No Gradle, no network.
# Usage: host-test.sh [GOLDEN_DIR]   (default: tests/apps/golden). A missing toolchain is an error, never a skip.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
demo="$(dirname "$here")"
repo="$(dirname "$demo")"
golden="$(cd "${1:-$repo/tests/apps/golden}" && pwd)"
kotlin="$here/node_modules/kotlin-compiler"
ktlint="$here/node_modules/.bin/ktlint"
junit=/usr/share/java/junit4.jar
hamcrest=/usr/share/java/hamcrest-core.jar

[[ -x "$kotlin/bin/kotlinc" && -x "$ktlint" ]] || { echo "host-test: kotlinc/ktlint missing; run: npm ci --prefix android_demo/tools" >&2; exit 1; }
[[ -f "$junit" && -f "$hamcrest" ]] || { echo "host-test: JUnit 4 missing; run: apt-get install -y junit4" >&2; exit 1; }
command -v java >/dev/null || { echo "host-test: no JDK; run: apt-get install -y default-jdk-headless" >&2; exit 1; }

build="$demo/build/host-test"
rm -rf "$build" && mkdir -p "$build"
# Language/API 2.2: what AGP 9's bundled Kotlin reads, so the host build accepts only what Gradle will.
"$kotlin/bin/kotlinc" -jvm-target 17 -language-version 2.2 -api-version 2.2 -nowarn -cp "$junit" \
    "$demo/core/src/main/kotlin" "$demo/core/src/test/kotlin" -d "$build/core-tests.jar"

classes=$(cd "$demo/core/src/test/kotlin" && grep -l '@Test' -r . | sed 's#^\./##; s#\.kt$##; s#/#.#g' | sort)
set +e
java -Dedgeav.golden="$golden" -cp "$build/core-tests.jar:$junit:$hamcrest:$kotlin/lib/kotlin-stdlib.jar" \
    org.junit.runner.JUnitCore $classes > "$build/junit.txt" 2>&1
status=$?
set -e
cat "$build/junit.txt"
run=$(grep -oE 'OK \(([0-9]+) tests?\)' "$build/junit.txt" | grep -oE '[0-9]+' || true)
if [[ -n "$run" ]]; then failed=0; else
    run=$(grep -oE 'Tests run: [0-9]+' "$build/junit.txt" | grep -oE '[0-9]+' || echo 0)
    failed=$(grep -oE 'Failures: [0-9]+' "$build/junit.txt" | grep -oE '[0-9]+' || echo 0)
fi

(cd "$demo" && "$ktlint" "core/src/**/*.kt" "app/src/**/*.kt") || { echo "host-test: ktlint found problems (fix: $ktlint -F)"; status=1; }
echo "kotlin core: $((run - failed)) passed, $failed failed"
exit $status
