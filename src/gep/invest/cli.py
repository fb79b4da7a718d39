"""`gep invest …`: run an InVEST datastack in the InVEST-compatible mode (mounted by gep.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gep.errors import GepError

invest_app = typer.Typer(help="InVEST-compatible mode: run InVEST 3.20 datastacks, write InVEST's outputs.",
                         no_args_is_help=True)


@invest_app.callback()
def invest_callback() -> None:
    """InVEST-compatible mode (a group, so `gep invest run …` keeps its subcommand name)."""


@invest_app.command("run")
def run_command(
    datastack: Annotated[Path, typer.Argument(help="InVEST datastack JSON (the args of an InVEST model).")],
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Folder for the outputs.")],
) -> None:
    """Run the datastack's model (carbon, annual_water_yield) and list the files written."""
    from gep.invest import run_datastack

    try:
        outputs = run_datastack(datastack, workspace)
    except GepError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    for key, path in outputs.items():
        typer.echo(f"{key}\t{path}")
