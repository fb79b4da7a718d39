"""Every table on the metadata: the kit's own and each domain's models module."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from gep.kit.domain import Domain
from gep.kit.web.kit_domain import MODELS


def load_models(domains: Sequence[Domain]) -> list[ModuleType]:
    return [*MODELS, *(d.models for d in domains if d.models is not None)]
