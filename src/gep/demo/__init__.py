"""Built-in demo regions: real public data about Lishui plus clearly labelled synthetic inputs."""

from gep.demo.lishui import build_lishui_region

__all__ = ["build_lishui_region"]
