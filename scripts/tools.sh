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
# libjpeg-turbo (fast JPEG) and rav1e's assembly, which need cmake and nasm, and the
# vendored libheif (HEIC and AVIF sources), which needs cmake, a C++ compiler and
# pkg-config: installed when missing where possible; otherwise the portable pure-Rust
# build (`--no-default-features`), with one line on stderr saying so. libheif decodes
# with the libde265 (HEVC) and libdav1d (AV1) it finds when it is built, and writes
# HEIC with the libx265 it finds (linked with libnuma, which x265's pkg-config file
# names): installed too where possible; without them HEIC and
# AVIF sources, or `format,heic`, answer 501. x265 is GPL-2.0+: see the README's
# License. $1 names the caller.
choose_features() {
    features=()
    if ! { command -v cmake && command -v nasm && command -v pkg-config && command -v c++; } >/dev/null 2>&1; then
        if can_apt; then
            echo "$1: installing cmake, nasm, pkg-config and g++ (apt-get) for the fast build" >&2
            apt_install cmake nasm pkg-config g++
        else
            echo "$1: cmake, nasm, pkg-config or a C++ compiler is missing and cannot be" \
                "installed here (not root with apt-get): building the portable pure-Rust" \
                "path, about 2x slower for JPEG thumbnails and without HEIC/AVIF sources. For" \
                "the fast one: apt-get install cmake nasm pkg-config g++, then run again." >&2
            features=(--no-default-features)
            return 0
        fi
    fi
    local libs=(libde265 dav1d x265 numa) pkgs=(libde265-dev libdav1d-dev libx265-dev libnuma-dev)
    pkg-config --exists "${libs[@]}" && return 0
    if can_apt; then
        echo "$1: installing ${pkgs[*]} (apt-get) for HEIC and AVIF" >&2
        apt_install "${pkgs[@]}"
        # libheif looks for its codecs when it is built: a build from before lacks them.
        if [ -d target ]; then
            cargo clean -q -p libheif-sys 2>/dev/null || true
            cargo clean -q --release -p libheif-sys 2>/dev/null || true
        fi
    else
        echo "$1: ${libs[*]}: one is missing and cannot be installed here: HEIC or AVIF" \
            "sources, or HEIC output, will answer 501. For them: apt-get install" \
            "${pkgs[*]}, then cargo clean -p libheif-sys and build again." >&2
    fi
}
