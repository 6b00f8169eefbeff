"""Whether output gets ANSI colours: one rule for every command netpack owns.

Colours go only to a terminal, only when asked for (no ``--no-color``) and only
when ``NO_COLOR`` is unset or empty (https://no-color.org).  ``netpack test`` and
``verify`` follow conftest instead (colours unless ``--no-color``, terminal or
not) but honour ``NO_COLOR`` too.
"""

from __future__ import annotations

import os
from typing import TextIO


def no_color_env() -> bool:
    """``NO_COLOR`` is set to something: the user wants no colours anywhere."""
    return bool(os.environ.get("NO_COLOR"))


def use_color(stream: TextIO, requested: bool = True) -> bool:
    """Colours for ``stream``: ``requested``, no ``NO_COLOR``, and a terminal."""
    if not requested or no_color_env():
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: plain text
        return False
