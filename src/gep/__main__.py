"""`python -m gep`: the `gep` command, for environments where the console script is not on PATH."""

from gep.cli import app

app(prog_name="gep")
