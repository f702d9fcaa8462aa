#!/bin/bash
# Stub of the parts of devstack's function library (and of Trove's devstack
# plugin) that devstack/plugin.sh calls. Calls are appended to $STUB_LOG
# as JSON lists; iniset/iniget edit real files like devstack's.

function record {
    "$STUB_PYTHON" "$STUB_DIR/record.py" "$@"
}

function iniset {
    record iniset "$@"
    "$STUB_PYTHON" "$STUB_DIR/ini.py" set "$@"
}

function iniget {
    "$STUB_PYTHON" "$STUB_DIR/ini.py" get "$@"
}

function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",$STUB_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
    done
    return 1
}

function trueorfalse {
    local default=$1 value=${!2:-}
    case ${value,,} in
        1 | yes | true | on) echo True ;;
        0 | no | false | off) echo False ;;
        *) echo "$default" ;;
    esac
}

function warn {
    record warn "$*"
}

function echo_summary {
    echo "$@"
}

function define_plugin {
    record define_plugin "$@"
}

function plugin_requires {
    record plugin_requires "$@"
}

function setup_develop {
    record setup_develop "$@"
}

function pip_install {
    record pip_install "$@"
}

function sudo {
    "$@"
}

function stop_trove {
    record stop_trove
}

function start_trove {
    record start_trove
}

function restart_apache_server {
    record restart_apache_server
}
