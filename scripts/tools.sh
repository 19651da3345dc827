# Sourced by the scripts here: installing what a build or a test needs.

# True as root on a machine with apt-get (Debian, Ubuntu): missing tools get installed.
can_apt() {
    command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]
}

# `apt_install PKG...`: install Debian packages quietly, refreshing the index if needed.
apt_install() {
    apt-get install -y -qq "$@" >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq "$@" >/dev/null; }
}

# Sets the array `features` for cargo. The default features build the vendored
# libjpeg-turbo (fast JPEG) and rav1e's assembly, which need cmake and nasm: installed
# when missing where possible; otherwise the portable pure-Rust build
# (`--no-default-features`), with one line on stderr saying so. $1 names the caller.
choose_features() {
    features=()
    { command -v cmake && command -v nasm; } >/dev/null 2>&1 && return 0
    if can_apt; then
        echo "$1: installing cmake and nasm (apt-get) for the fast JPEG build" >&2
        apt_install cmake nasm
    else
        echo "$1: cmake or nasm is missing and cannot be installed here (not root with" \
            "apt-get): building the portable pure-Rust JPEG path, about 2x slower for" \
            "JPEG thumbnails. For the fast one: apt-get install cmake nasm, then run again." >&2
        features=(--no-default-features)
    fi
}
