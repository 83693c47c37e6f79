"""Hypothesis profiles: ``dev`` by default, ``ci`` under CI.

``HYPOTHESIS_PROFILE=<name>`` picks a profile explicitly; otherwise a non-empty ``CI`` variable
(``CI=true`` in CI) picks ``ci``. A test's own ``@settings(max_examples=...)`` wins over the profile.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, print_blob=True)


def profile_name(environ: Mapping[str, str]) -> str:
    """The profile to load for this environment."""
    return environ.get("HYPOTHESIS_PROFILE") or ("ci" if environ.get("CI") else "dev")


settings.load_profile(profile_name(os.environ))
