"""The emulator's error types. Each one stops a server from starting, so all are ``EmulatorStartError``s.

* ``EmulatorStartError``: the server could not start (e.g. its port is in use);
* ``MotoVersionError``: the installed moto is not the one the patches were written for;
* ``ExtensionError``: an extension cannot be installed as written, either
  ``ExtensionInstallError`` (a moto target it patches is gone, one it adds already exists,
  or importing its moto modules failed) or ``ExtensionOrderError`` (an extension it
  ``requires`` is missing or comes after it).

Messages are one line that names what failed and, where there is one, the way out:
``python -m emulator start`` prints them as ``emulator: <message>``.
"""

from __future__ import annotations


class EmulatorStartError(RuntimeError):
    """The server could not start; the message says why."""


class MotoVersionError(EmulatorStartError):
    """The installed moto differs from the version the emulator was written for."""


class ExtensionError(EmulatorStartError):
    """An extension cannot be installed as written; the message starts with its name."""


class ExtensionInstallError(ExtensionError):
    """A patch target is missing (or, for an addition, already present), or a moto import failed."""


class ExtensionOrderError(ExtensionError):
    """An extension's ``requires`` names one that is absent or installed after it."""
