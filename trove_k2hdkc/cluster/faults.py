"""Cluster API errors whose HTTP code Trove has no exception for.

Trove's API resource maps a ``TroveError`` to an HTTP code by its exact
type and answers 400 for any type it does not list; it has no "busy"
409 and no 5xx for a failed member creation. A webob HTTP error passes
through its fault wrapper with its own code and text instead, so these
are webob errors; the body is ``{"<name>": {"code", "message"}}`` like
every other Trove fault.
"""

from __future__ import annotations

from typing import Any

import webob.exc


class ClusterBusy(webob.exc.HTTPConflict):
    """409: another task holds the cluster; the text names it."""

    def __init__(self, cluster_id: str, wanted: Any, running: Any) -> None:
        self.running = running
        running_name = running.name if running is not None else 'unknown'
        super().__init__(detail=(
            'Cluster %s is busy with task %s; %s can start only when no '
            'task runs. Wait for the cluster task to end and retry.'
            % (cluster_id, running_name, wanted.name)))


class GrowFailed(webob.exc.HTTPServiceUnavailable):
    """503: grow could not create its members or read the cluster's
    placement; the cluster's ring was not touched."""

    def __init__(self, text: str) -> None:
        super().__init__(detail=text)


class CreateFailed(webob.exc.HTTPServiceUnavailable):
    """503: create could not create its members for a reason that is not
    the request's; what it had made is being deleted."""

    def __init__(self, text: str) -> None:
        super().__init__(detail=text)
