"""The extension point: every change the emulator makes to moto is an ``Extension``.

Why: moto is patched in-process (its backends and response classes are module
globals), so each patch must be installable, removable and safe when two
``EmulatorServer`` instances share one process. This module gives

* ``Extension``: the protocol (``name``, ``install(server)``, ``uninstall()``);
* ``Patch`` / ``PatchExtension``: the common case, "replace these attributes
  on moto classes and put the originals back afterwards";
* ``activate`` / ``deactivate``: a process-wide, reference-counted registry
  keyed by ``Extension.name``, so an extension is installed once however many
  servers use it and removed when the last one stops.

Adding an extension is one new module: subclass ``PatchExtension`` (or write
any class with the three members) and pass an instance to ``EmulatorServer``
or list it in ``emulator.patches.BUILTIN_EXTENSIONS``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

_MISSING: Any = object()


@runtime_checkable
class Extension(Protocol):
    """Something that changes moto's behaviour while an emulator runs.

    ``name`` identifies the extension process-wide (two instances with the
    same name are the same extension). ``install`` receives the server that
    activates it first (for its ``url``/``port``); ``uninstall`` must undo
    everything ``install`` did.
    """

    name: str

    def install(self, server: EmulatorServer) -> None:
        """Apply the change; called once per process until uninstalled."""

    def uninstall(self) -> None:
        """Revert the change made by ``install``."""


@dataclass(frozen=True)
class Patch:
    """Replace ``owner.attribute`` while the owning extension is installed.

    ``build`` receives the attribute exactly as stored on the owner (the raw
    ``staticmethod`` object for static methods, ``None`` when absent) and
    returns the replacement, so wrappers always wrap what is there now.
    """

    owner: Any
    attribute: str
    build: Callable[[Any], Any]

    @classmethod
    def replace(cls, owner: Any, attribute: str, value: Any) -> Patch:
        """Patch that sets ``owner.attribute = value`` (adding it if absent)."""
        return cls(owner, attribute, lambda _original: value)

    @classmethod
    def wrap(cls, owner: Any, attribute: str, wrapper: Callable[[Any], Any]) -> Patch:
        """Patch whose replacement is ``wrapper(original_function)``."""
        return cls(owner, attribute, wrapper)


class PatchExtension:
    """Base class for extensions made of attribute patches.

    Subclasses set ``name`` and implement ``patches()``; ``install`` and
    ``uninstall`` are idempotent and restore the exact original objects.
    Override ``on_install``/``on_uninstall`` for non-attribute work
    (settings, environment variables).
    """

    name: str = ""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        self._installed = False

    def patches(self) -> Sequence[Patch]:
        """The attribute patches this extension applies (default: none)."""
        return ()

    def on_install(self, server: EmulatorServer) -> None:
        """Hook for work other than attribute patches (default: nothing)."""

    def on_uninstall(self) -> None:
        """Undo ``on_install`` (default: nothing)."""

    @property
    def installed(self) -> bool:
        """True between ``install`` and ``uninstall``."""
        return self._installed

    def install(self, server: EmulatorServer) -> None:
        """Apply every patch; a second call without ``uninstall`` does nothing."""
        if self._installed:
            return
        for patch in self.patches():
            original = vars(patch.owner).get(patch.attribute, _MISSING)
            replacement = patch.build(None if original is _MISSING else original)
            self._saved.append((patch.owner, patch.attribute, original))
            setattr(patch.owner, patch.attribute, replacement)
        self.on_install(server)
        self._installed = True

    def uninstall(self) -> None:
        """Restore the originals in reverse order; safe to call twice."""
        if not self._installed:
            return
        self.on_uninstall()
        while self._saved:
            owner, attribute, original = self._saved.pop()
            if original is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self._installed = False


def unwrap_static(original: Any) -> Callable[..., Any]:
    """Return the function behind a ``staticmethod`` (or the object itself)."""
    return original.__func__ if isinstance(original, staticmethod) else original


_lock = threading.Lock()
_active: dict[str, tuple[Extension, int]] = {}


def activate(extension: Extension, server: EmulatorServer) -> None:
    """Install ``extension`` unless one with the same name is active; count users."""
    with _lock:
        current, users = _active.get(extension.name, (extension, 0))
        if users == 0:
            current.install(server)
        _active[extension.name] = (current, users + 1)


def deactivate(extension: Extension) -> None:
    """Drop one user of ``extension``; uninstall it when the last user leaves."""
    with _lock:
        if extension.name not in _active:
            return
        current, users = _active[extension.name]
        if users <= 1:
            del _active[extension.name]
            current.uninstall()
        else:
            _active[extension.name] = (current, users - 1)


def active_names() -> list[str]:
    """Names of the extensions installed in this process right now."""
    with _lock:
        return sorted(_active)
