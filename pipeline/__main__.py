"""``python -m pipeline``: the ``netpack`` command, for an environment without its script."""

from pipeline.cli.main import run

if __name__ == "__main__":
    run()
