"""The import contracts that draw the house, generated from the domain list and checked by import-linter.

    composition root   gep.app, gep.cli, gep.cli_platform, gep.contracts, gep.i18n_tools, gep.migrations
    domains            gep.auth | gep.regions | …   (independent of each other, but for the edges they declare)
    shared services    gep.ledger | gep.certificates   (domains with `shared=True`: any domain may use them)
    toolkit            gep.kit, then gep.db
    engine             gep.accounting, gep.invest, gep.report, gep.demo, gep.testing (nothing of the platform)

A domain may call another domain's service (and read its plain rules) only where it says so in its
`Domain.depends_on`, which docs/architecture.md justifies edge by edge; every other path between domains goes
through events. Rules import neither the web nor the database. Because the contracts come from the same list
the app is built from, a new domain is checked without anyone editing a contract.

Run it with ``python -m gep.contracts`` (CI does).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gep.kit.domain import Domain

COMPOSITION = ("gep.app", "gep.cli", "gep.cli_platform", "gep.cli_operations", "gep.contracts", "gep.i18n_tools",
               "gep.migrations", "gep.operations")
ENGINE = ("gep.accounting", "gep.invest", "gep.report", "gep.demo", "gep.testing")
TOOLKIT = ("gep.kit", "gep.db")
WEB_AND_DATABASE = ("fastapi", "starlette", "sqlalchemy", "gep.db", "gep.kit.web", "gep.kit.tasks", "gep.kit.events")


def _package(domain: Domain) -> str:
    """The import name of a domain's package (gep.auth for the auth domain; a test domain's own name)."""
    if domain.models is not None:
        return domain.models.__name__.rsplit(".", 1)[0]
    return f"gep.{domain.name}"


def contracts(domains: Sequence[Domain]) -> str:
    """The contracts as an import-linter INI file."""
    mechanisms = [d for d in domains if d.name != "kit"]
    packages = {d.name: _package(d) for d in mechanisms}
    roots = sorted({p.split(".")[0] for p in packages.values()} | {"gep"})
    out = ["[importlinter]", f"root_packages =\n    {chr(10).join('    ' + r for r in roots).strip()}",
           "include_external_packages = True", ""]

    def contract(key: str, name: str, kind: str, **fields: Sequence[str] | str) -> None:
        out.append(f"[importlinter:contract:{key}]")
        out.append(f"name = {name}")
        out.append(f"type = {kind}")
        for field, value in fields.items():
            if isinstance(value, str):
                out.append(f"{field} = {value}")
            else:
                out.append(f"{field} =")
                out.extend(f"    {v}" for v in value)
        out.append("")

    contract("engine", "The accounting engine imports nothing of the platform", "forbidden",
             source_modules=ENGINE, forbidden_modules=[*TOOLKIT, *COMPOSITION, *packages.values()])
    ignores = []
    for d in mechanisms:
        for dep in d.depends_on:
            for part in ("service", "rules", "models"):
                ignores.append(f"{packages[d.name]}.** -> {packages[dep]}.{part}")
    mechanisms_layer = " | ".join(packages[d.name] for d in mechanisms if not d.shared)
    shared_layer = " | ".join(packages[d.name] for d in mechanisms if d.shared)
    layers = [" : ".join(COMPOSITION), mechanisms_layer, *([shared_layer] if shared_layer else []), "gep.kit", "gep.db"]
    contract("layers", "Composition root → domains → shared services → toolkit: dependencies point one way; domains "
             "are independent but for the edges they declare (Domain.depends_on)", "layers", layers=layers,
             **({"ignore_imports": ignores, "unmatched_ignore_imports_alerting": "none"} if ignores else {}))
    rules = [f"{p}.rules" for p in packages.values() if _has_module(p, "rules")]
    if rules:
        contract("rules", "Rules are plain code: they import neither the web nor the database", "forbidden",
                 source_modules=rules, forbidden_modules=WEB_AND_DATABASE)
    return "\n".join(out)


def _has_module(package: str, name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(f"{package}.{name}") is not None


def check(domains: Sequence[Domain] | None = None, verbose: bool = False) -> bool:
    """Run import-linter on the generated contracts; prints its report, returns whether all are kept."""
    from importlinter import configuration
    from importlinter.application.use_cases import lint_imports

    configuration.configure()

    if domains is None:
        from gep.app import DOMAINS

        domains = DOMAINS
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / ".importlinter"
        config.write_text(contracts(domains), encoding="utf-8")
        return bool(lint_imports(config_filename=str(config), no_logo=True, verbose=verbose, cache_dir=None))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0 if check() else 1)
