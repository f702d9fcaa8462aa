"""trove-dashboard's cluster forms, fitted to K2HDKC.

A K2HDKC cluster is N identical server members on one network, each with
a flavor and a volume; Trove refuses configuration groups for it, and its
members have no type or relation to another member (doc/dashboard.md §3).
The forms' own ``__init__`` runs first; this only relabels or hides what
does not apply, so every other datastore's form is unchanged.
"""

from __future__ import annotations

from typing import Any

from trove_k2hdkc.dashboard import capability

MEMBER_COUNT_LABEL = 'Number of Members'
# ClusterAddInstanceForm fields with no meaning for a K2HDKC member.
NOT_FOR_K2HDKC = ('type', 'related_to', 'configuration')
_MARK = '_trove_k2hdkc'


def _datastore_of(choice_value: str) -> str:
    from trove_dashboard.content.databases.workflows import create_instance
    from trove_dashboard.utils import common
    datastore, _version = create_instance.parse_datastore_and_version_text(
        common.unhexlify(choice_value))
    return datastore


def fit_launch(form: Any) -> None:
    """Hide "Configuration Group" when a K2HDKC version is chosen, and
    call the member count what it is."""
    configuration = form.fields['configuration'].widget
    configuration.attrs.update({'class': 'switched',
                                'data-switch-on': 'datastore'})
    label = str(form.fields['configuration'].label)
    count = form.fields['num_instances'].widget
    for value, _text in form.fields['datastore'].choices:
        key = 'data-datastore-' + value
        if capability.is_k2hdkc(_datastore_of(value)):
            configuration.attrs.pop(key, None)
            count.attrs[key] = MEMBER_COUNT_LABEL
        else:
            configuration.attrs[key] = label


def fit_grow(form: Any) -> None:
    """Drop the add-member fields a K2HDKC member has no use for. The
    form knows only the cluster id; its datastore comes from Trove."""
    from trove_dashboard import api as trove_api
    cluster_id = form.initial.get('cluster_id')
    try:
        cluster = trove_api.trove.cluster_get(form.request, cluster_id)
        datastore = cluster.datastore['type']
    except Exception:
        # The view shows Trove's own error for this cluster; the form
        # stays trove-dashboard's.
        return
    if capability.is_k2hdkc(datastore):
        for name in NOT_FOR_K2HDKC:
            form.fields.pop(name, None)


def _after_init(cls: Any, fit: Any) -> None:
    original = cls.__init__
    if getattr(original, _MARK, False):
        return

    def __init__(self: Any, request: Any, *args: Any, **kwargs: Any) -> None:
        original(self, request, *args, **kwargs)
        fit(self)

    setattr(__init__, _MARK, True)
    cls.__init__ = __init__


def fit() -> None:
    """Fit the launch and add-member forms (once)."""
    from trove_dashboard.content.database_clusters import forms
    _after_init(forms.LaunchForm, fit_launch)
    _after_init(forms.ClusterAddInstanceForm, fit_grow)
