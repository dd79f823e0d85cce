"""The moto version the emulator was written for.

Why: every patch in ``emulator/patches/`` targets private moto code (module paths, class
attributes, call signatures) read in one moto release; error messages about a missing
target name this version. It is pinned in the Pipfile (``moto = "==5.2.5"``).
"""

from __future__ import annotations

SUPPORTED_MOTO_VERSION = "5.2.5"
