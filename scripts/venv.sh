# Sourced by the scripts here: `ensure_venv DIR` creates a Python virtual environment
# in DIR unless it exists (installing Debian's python3-venv as root when needed, else
# falling back to virtualenv from PyPI).
. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
ensure_venv() {
    local venv=$1
    [ -x "$venv/bin/python" ] && return 0
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        # Debian's python3 ships venv separately.
        if can_apt; then
            apt_install python3-venv
            python3 -m venv "$venv"
        else
            python3 -m pip install --user -q virtualenv
            python3 -m virtualenv -q "$venv"
        fi
    fi
}
