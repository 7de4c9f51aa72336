#!/usr/bin/env bash
# Install the R peers of the benchmark suite (brms, lme4) from Debian's packages.
# Used by `make bench-peers`; safe to rerun (skips what is already there).
set -euo pipefail

have_r_peers() {
    command -v Rscript >/dev/null 2>&1 &&
        Rscript -e 'suppressMessages({library(brms); library(lme4); library(jsonlite)})' >/dev/null 2>&1
}

if have_r_peers; then
    echo "install_peers: Rscript with brms and lme4 already present"
else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO="sudo"
        else
            echo "install_peers: need root (or sudo) to apt-get install the R packages" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    # g++/make: brms compiles each model through rstan.
    $SUDO apt-get install -y --no-install-recommends \
        r-base-core r-cran-lme4 r-cran-brms r-cran-metafor r-cran-ordinal r-cran-bh \
        r-cran-posterior r-cran-jsonlite g++ make
fi

# Debian's r-cran-bh installs the Boost headers in /usr/include but not under
# BH/include, where rstan's compile flags look for them.
BH=/usr/lib/R/site-library/BH
if [ -d "$BH" ] && [ ! -e "$BH/include" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    $SUDO ln -s /usr/include "$BH/include"
    echo "install_peers: linked $BH/include -> /usr/include"
fi

have_r_peers && echo "install_peers: ok ($(Rscript -e 'cat(R.version.string)'))"
