#!/usr/bin/env bash
# Make a `garage` binary (Garage 2.5, the S3 server the integration tests start) available on
# a clean Debian machine, running as root. Does nothing when one is already there.
# Garage is AGPL: the tests run it as a separate process, it is never linked into Credence.
# Building it takes about 13 minutes on 2 cores: cache /usr/local/bin/garage between runs.
set -euo pipefail

if command -v garage >/dev/null 2>&1; then
    echo "garage already on PATH: $(command -v garage)"
    exit 0
fi
if [ -x /usr/local/bin/garage ]; then
    echo "garage already at /usr/local/bin/garage"
    exit 0
fi

start=$(date +%s)
cargo install garage@2.5.0 --locked --no-default-features --features bundled-libs,sqlite --root /usr/local
end=$(date +%s)
echo "garage installed at /usr/local/bin/garage in $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s"
