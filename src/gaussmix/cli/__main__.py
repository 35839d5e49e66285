"""Entry point of the ``gaussmix`` console script (and of ``python -m gaussmix.cli``)."""

from __future__ import annotations

import sys

CLI_DEPENDENCIES = ("typer", "rich")


def main() -> None:
    """Run the command line; without typer or rich installed, say which extra to install and exit 1."""
    try:
        from .app import app
    except ImportError as exc:
        if exc.name not in CLI_DEPENDENCIES:
            raise
        print(f'gaussmix: the command line needs {exc.name}: pip install "gaussmix[cli]"', file=sys.stderr)
        sys.exit(1)
    app(prog_name="gaussmix")


if __name__ == "__main__":
    main()
