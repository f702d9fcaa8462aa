"""Policy evaluation: does a set of policies allow an action?"""

from __future__ import annotations

from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.store import TenantData


def allows(data: TenantData, policy_yrns: list[str], resource: str,
           action: str) -> bool:
    """Allowed when an ``allow`` policy lists both and no ``deny`` does."""
    allowed = False
    for policy_yrn in policy_yrns:
        parsed = yrn.parse(policy_yrn)
        if parsed is None or parsed[1] != 'policy':
            continue
        policy = data.policies.get(yrn.normalise_path(parsed[2]))
        if policy is None:
            continue
        if resource in policy['resource'] and action in policy['action']:
            if policy['effect'] == 'deny':
                return False
            allowed = True
    return allowed

