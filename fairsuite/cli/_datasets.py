"""``fairsuite datasets``: list the known datasets and describe one (work in progress)."""

from __future__ import annotations

import click

from fairsuite.cli._common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
def datasets() -> None:
    """List datasets and show their composition."""
