"""`e360 init`: from a landing folder nobody described to a commented `e360.yaml`.

`profile` reads the files (format, encoding, delimiter, what each column's values look like),
`propose` turns the profiles into sources, mappings onto the canonical attributes, event
settings and matching settings fitted to what is mapped, and `scaffold` writes the
configuration with a comment on every guess saying how sure it is.
"""

from __future__ import annotations

from pathlib import Path

from onboarding.profile import OnboardingError, profile_landing
from onboarding.propose import Proposal, propose
from onboarding.scaffold import summary_rows, write_config

__all__ = ["OnboardingError", "Proposal", "init_config", "summary_rows"]


def init_config(landing: Path, config: Path, *, force: bool = False) -> Proposal:
    """Profile the landing folder, propose a configuration and write it to `config`."""
    if config.exists() and not force:
        raise OnboardingError(f"{config}: already exists; pass --force to overwrite it")
    proposal = propose(profile_landing(landing), landing)
    write_config(proposal, config, force=force)
    return proposal
