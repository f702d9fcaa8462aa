#!/bin/bash
# trove-k2hdkc devstack plugin: the K2HDKC datastore on a stock devstack
# Trove, enabled after Trove (README.md "Install on OpenStack with
# devstack"). devstack sources this file in its own shell for each phase,
# after Trove's plugin:
#   stack install      the plugin into Trove's Python environment
#   stack post-config  [k2hdkc] and the registration lines in trove.conf and
#                      trove-guestagent.conf (Trove has just recreated
#                      both), the config template, the cloud-init file and
#                      the dashboard's enabled file
#   stack extra        container images, guest image, datastore version,
#                      validation rules, then Trove's services restarted
# Every step can run twice: a second run changes nothing.

K2HDKC_DATASTORE=k2hdkc
K2HDKC_SOURCE_GROUP=k2hdkc_options
K2HDKC_GUEST_MANAGER=trove_k2hdkc.guest.manager.Manager
K2HDKC_REPL_STRATEGY=trove_k2hdkc.guest.replication.K2hdkcReplication

# stack install ---------------------------------------------------------------

function k2hdkc_install {
    setup_develop "$TROVE_K2HDKC_DIR"
}

# stack post-config -----------------------------------------------------------

# Adds k2hdkc_options to [DEFAULT] config_source (keeping other sources);
# its driver registers [k2hdkc] in every Trove program.
function k2hdkc_register_options {
    local file=$1 sources
    sources=$(iniget "$file" DEFAULT config_source)
    case ",${sources// /}," in
        *",$K2HDKC_SOURCE_GROUP,"*) ;;
        ",,") iniset "$file" DEFAULT config_source "$K2HDKC_SOURCE_GROUP" ;;
        *) iniset "$file" DEFAULT config_source "$sources,$K2HDKC_SOURCE_GROUP" ;;
    esac
    iniset "$file" "$K2HDKC_SOURCE_GROUP" driver "$K2HDKC_SOURCE_GROUP"
}

# iniset only a non-empty value (an unset option keeps its default).
function k2hdkc_iniset_set {
    if [[ -n "$4" ]]; then
        iniset "$1" "$2" "$3" "$4"
    fi
}

function k2hdkc_configure_trove {
    local conf
    for conf in "$TROVE_CONF" "$TROVE_GUESTAGENT_CONF"; do
        k2hdkc_register_options "$conf"
        iniset "$conf" k2hdkc docker_image "$TROVE_K2HDKC_IMAGE"
        iniset "$conf" k2hdkc backup_docker_image "$TROVE_K2HDKC_BACKUP_IMAGE"
        iniset "$conf" k2hdkc k2hr3_allow_insecure_http \
            "$(trueorfalse False TROVE_K2HDKC_K2HR3_ALLOW_HTTP)"
    done
    if [[ -z "$TROVE_K2HDKC_K2HR3_API_URL" ]]; then
        warn "TROVE_K2HDKC_K2HR3_API_URL is unset: K2HDKC clusters cannot be created until [k2hdkc] k2hr3_api_url names a K2HR3 API"
    fi
    k2hdkc_iniset_set "$TROVE_CONF" k2hdkc k2hr3_api_url "$TROVE_K2HDKC_K2HR3_API_URL"
    k2hdkc_iniset_set "$TROVE_CONF" k2hdkc k2hr3_guest_api_url "$TROVE_K2HDKC_K2HR3_GUEST_API_URL"
    k2hdkc_iniset_set "$TROVE_CONF" k2hdkc k2hr3_ca_file "$TROVE_K2HDKC_K2HR3_CA_FILE"
    if [[ "$(trueorfalse True TROVE_K2HDKC_TASKMANAGER)" == "True" ]]; then
        iniset "$TROVE_CONF" DEFAULT taskmanager_manager trove_k2hdkc.taskmanager.Manager
    fi
}

# Trove refuses to build an instance without the datastore's config
# template; the guest's cloud-init is Trove's common one.
function k2hdkc_install_files {
    sudo install -D -m 0644 \
        "$TROVE_K2HDKC_DIR/etc/trove/templates/k2hdkc/config.template" \
        "$TROVE_K2HDKC_TEMPLATE_DIR/$K2HDKC_DATASTORE/config.template"
    local common=$TROVE_K2HDKC_CLOUDINIT_DIR/common.cloudinit
    if [[ -f "$common" ]]; then
        sudo install -m 0644 "$common" \
            "$TROVE_K2HDKC_CLOUDINIT_DIR/$K2HDKC_DATASTORE.cloudinit"
    else
        warn "$common not found: k2hdkc guests get no cloud-init file"
    fi
}

# Horizon's enabled file(s) of the plugin's dashboard part (doc/dashboard.md).
function k2hdkc_install_dashboard {
    local enabled
    for enabled in "$TROVE_K2HDKC_DIR"/trove_k2hdkc/dashboard/enabled/_[0-9]*.py; do
        if [[ -f "$enabled" ]]; then
            install -D -m 0644 "$enabled" \
                "$HORIZON_DIR/openstack_dashboard/local/enabled/$(basename "$enabled")"
        fi
    done
}

# stack extra -----------------------------------------------------------------

# The image (repository $1) built from Dockerfile $2 in context $3, tagged
# with the datastore version; pushed when a registry is set.
function k2hdkc_build_container {
    local ref=$1:$TROVE_K2HDKC_VERSION
    if ! sudo docker image inspect "$ref" >/dev/null 2>&1; then
        sudo docker build -t "$ref" -f "$2" "$3"
    fi
    if [[ -n "$TROVE_K2HDKC_REGISTRY" ]]; then
        sudo docker push "$ref"
    fi
}

function k2hdkc_build_containers {
    if [[ "$(trueorfalse True TROVE_K2HDKC_BUILD_CONTAINERS)" != "True" ]]; then
        return 0
    fi
    k2hdkc_build_container "$TROVE_K2HDKC_IMAGE" \
        "$TROVE_K2HDKC_DIR/guestagent/Dockerfile" "$TROVE_K2HDKC_DIR/guestagent"
    k2hdkc_build_container "$TROVE_K2HDKC_BACKUP_IMAGE" \
        "$TROVE_K2HDKC_DIR/backup_image/Dockerfile" "$TROVE_K2HDKC_DIR"
}

function k2hdkc_git_head {
    git -C "$1" rev-parse HEAD 2>/dev/null || echo HEAD
}

# Trove's own guest elements (its build has a fixed element list) plus
# guestagent/elements/trove-k2hdkc-guest; a non-dev image, so the guest
# runs the code installed in it. Without a registry both containers are
# embedded in the image.
function k2hdkc_build_guest_image {
    local output=$1 embed=""
    if ! command -v disk-image-create >/dev/null; then
        pip_install diskimage-builder
    fi
    if [[ -z "$TROVE_K2HDKC_REGISTRY" ]]; then
        embed="$TROVE_K2HDKC_IMAGE:$TROVE_K2HDKC_VERSION $TROVE_K2HDKC_BACKUP_IMAGE:$TROVE_K2HDKC_VERSION"
    fi
    ELEMENTS_PATH="$TROVE_DIR/integration/scripts/files/elements:$TROVE_K2HDKC_DIR/guestagent/elements" \
    DIB_RELEASE=$TROVE_K2HDKC_GUEST_OS_RELEASE DISTRO_NAME=ubuntu \
    DEV_MODE=false GUEST_USERNAME=ubuntu SYNC_LOG_TO_CONTROLLER=False \
    DIB_CLOUD_INIT_DATASOURCES="ConfigDrive, OpenStack" \
    DIB_CLOUD_INIT_ETC_HOSTS=localhost \
    DIB_REPOLOCATION_guest_agent=$TROVE_DIR \
    DIB_REPOREF_guest_agent=$(k2hdkc_git_head "$TROVE_DIR") \
    DIB_REPOLOCATION_trove_k2hdkc=$TROVE_K2HDKC_DIR \
    DIB_REPOREF_trove_k2hdkc=$(k2hdkc_git_head "$TROVE_K2HDKC_DIR") \
    DIB_REPOLOCATION_upper_constraints=file://$REQUIREMENTS_DIR/upper-constraints.txt \
    DIB_TROVE_DOCKER_IMAGES=$embed \
        disk-image-create -a amd64 -o "$output" -t qcow2 --image-size 5 \
        base vm ubuntu-minimal cloud-init-datasources pip-cache \
        guest-agent ubuntu-docker trove-k2hdkc-guest
}

# Prints the Glance id of the guest image, uploading (after downloading or
# building) it first when Glance has none of that name.
function k2hdkc_guest_image {
    if [[ -n "$TROVE_K2HDKC_GUEST_IMAGE_ID" ]]; then
        echo "$TROVE_K2HDKC_GUEST_IMAGE_ID"
        return 0
    fi
    local name=$TROVE_K2HDKC_GUEST_IMAGE_NAME id tag
    local file=$TROVE_K2HDKC_IMAGES_DIR/$name.qcow2
    local -a tags=()
    id=$(openstack --os-cloud trove image list --name "$name" -f value -c ID)
    if [[ -n "$id" ]]; then
        echo "${id%%$'\n'*}"
        return 0
    fi
    if [[ ! -f "$file" ]]; then
        mkdir -p "$TROVE_K2HDKC_IMAGES_DIR"
        if [[ -n "$TROVE_K2HDKC_GUEST_IMAGE_URL" ]]; then
            curl -fsSL "$TROVE_K2HDKC_GUEST_IMAGE_URL" -o "$file" >&2
        else
            k2hdkc_build_guest_image "${file%.qcow2}" >&2
        fi
    fi
    for tag in ${TROVE_K2HDKC_IMAGE_TAGS//,/ }; do
        tags+=(--tag "$tag")
    done
    openstack --os-cloud trove image create "$name" --disk-format qcow2 \
        --container-format bare "${tags[@]}" --property hw_rng_model=virtio \
        --file "$file" -c id -f value
}

# trove-manage updates in place, so registering again changes nothing.
function k2hdkc_register_datastore {
    local image_id=$1 ver=$TROVE_K2HDKC_VERSION
    local rules=$TROVE_K2HDKC_DIR/etc/trove/templates/$K2HDKC_DATASTORE/validation-rules.json
    "$TROVE_MANAGE" datastore_update "$K2HDKC_DATASTORE" ""
    "$TROVE_MANAGE" datastore_version_update "$K2HDKC_DATASTORE" "$ver" \
        "$K2HDKC_DATASTORE" "$image_id" "" 1 \
        --image-tags "$TROVE_K2HDKC_IMAGE_TAGS" \
        --registry-ext "$K2HDKC_GUEST_MANAGER" \
        --repl-strategy "$K2HDKC_REPL_STRATEGY"
    "$TROVE_MANAGE" datastore_update "$K2HDKC_DATASTORE" "$ver"
    if [[ -f "$rules" ]]; then
        "$TROVE_MANAGE" db_load_datastore_config_parameters \
            "$K2HDKC_DATASTORE" "$ver" "$rules"
    fi
}

# Trove's own stop/start (its plugin was sourced in this shell before).
function k2hdkc_restart_trove {
    stop_trove
    start_trove
    if is_service_enabled horizon; then
        restart_apache_server
    fi
}

function k2hdkc_extra {
    local image_id
    k2hdkc_build_containers
    image_id=$(k2hdkc_guest_image)
    # An image found by its tags (TROVE_K2HDKC_IMAGE_TAGS) follows uploads
    # of a newer one; an image given by id is pinned.
    if [[ -z "$TROVE_K2HDKC_GUEST_IMAGE_ID" ]]; then
        echo "K2HDKC guest image: $image_id"
        image_id=""
    fi
    k2hdkc_register_datastore "$image_id"
    k2hdkc_restart_trove
}

# Dispatcher --------------------------------------------------------------------

if is_service_enabled trove; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing trove-k2hdkc"
        k2hdkc_install
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring trove-k2hdkc"
        k2hdkc_configure_trove
        k2hdkc_install_files
        if is_service_enabled horizon; then
            k2hdkc_install_dashboard
        fi
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Registering the k2hdkc datastore"
        k2hdkc_extra
    fi
fi
