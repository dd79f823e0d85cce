"""The extension point: every change the emulator makes to moto is an ``Extension``.

Why: moto is patched in-process (its backends and response classes are module
globals), so each patch must be installable, removable and safe when two
``EmulatorServer`` instances share one process. This module gives

* ``Extension``: the protocol (``name``, ``install(server)``, ``uninstall()``, and
  optionally ``requires``: names of extensions that must be installed before it);
* ``Patch`` / ``PatchExtension``: the common case, "change these attributes of moto
  and put the originals back afterwards". A ``Patch`` says what it expects of moto:
  ``wrap``/``replace`` change an attribute that must exist, ``add`` supplies one moto
  lacks (it must be absent), ``add_if_absent`` steps aside when moto has it. Anything
  else fails the install with ``ExtensionInstallError`` naming the extension and the
  target, and nothing stays patched;
* ``check_order``: every ``requires`` is present and earlier in the install order;
* ``activate`` / ``deactivate``: a process-wide, reference-counted registry
  keyed by ``Extension.name``, so an extension is installed once however many
  servers use it and removed when the last one stops.

Adding an extension is one new module: subclass ``PatchExtension`` (or write
any class with the three members) and pass an instance to ``EmulatorServer``
or list it in ``emulator.patches.BUILTIN_EXTENSIONS``.
"""

from __future__ import annotations

import enum
import inspect
import logging
import re
import threading
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from emulator.errors import ExtensionInstallError, ExtensionOrderError
from emulator.moto_version import SUPPORTED_MOTO_VERSION

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

LOGGER = logging.getLogger("emulator")
_MISSING: Any = object()


@runtime_checkable
class Extension(Protocol):
    """Something that changes moto's behaviour while an emulator runs.

    ``name`` identifies the extension process-wide (two instances with the
    same name are the same extension). ``install`` receives the server that
    activates it first (for its ``url``/``port``); ``uninstall`` must undo
    everything ``install`` did. An optional ``requires`` (default: none) names
    the extensions that must be installed before this one (see ``check_order``).
    """

    name: str

    def install(self, server: EmulatorServer) -> None:
        """Apply the change; called once per process until uninstalled."""

    def uninstall(self) -> None:
        """Revert the change made by ``install``."""


def requirements(extension: Extension) -> tuple[str, ...]:
    """The names ``extension`` requires before it (its ``requires``, default none)."""
    return tuple(getattr(extension, "requires", ()))


def check_order(extensions: Sequence[Extension]) -> None:
    """Raise ``ExtensionOrderError`` unless each extension's ``requires`` come before it.

    ``extensions`` is an install order (a server's built-ins, then its own). The message
    names the extension and the requirement that is absent or comes after it.
    """
    position = {extension.name: index for index, extension in reversed(list(enumerate(extensions)))}
    for index, extension in enumerate(extensions):
        for required in requirements(extension):
            if required not in position:
                raise ExtensionOrderError(
                    f"{extension.name} requires {required}, which is not among the server's extensions"
                )
            if position[required] > index:
                raise ExtensionOrderError(
                    f"{extension.name} requires {required}, which must be installed before it but comes after it"
                )


def missing_target(extension: str, target: str) -> ExtensionInstallError:
    """The error for a moto target (``moto.x.y.Class.attr``) that ``extension`` cannot find."""
    return ExtensionInstallError(
        f"{extension}: moto target {target} not found; this patch was written for moto {SUPPORTED_MOTO_VERSION}"
    )


def _import_target(exc: ImportError) -> str:
    """What a failed import looked for: ``moto.a.b`` (no module) or ``moto.a.b.Name``."""
    found = re.search(r"cannot import name '([^']+)'", str(exc))
    if exc.name and found:
        return f"{exc.name}.{found.group(1)}"
    return exc.name or str(exc)


class PatchKind(enum.Enum):
    """What a ``Patch`` expects of its target, checked at install."""

    WRAP = "wrap"  # the attribute exists; the replacement is built from it
    REPLACE = "replace"  # the attribute exists; the replacement ignores it
    ADD = "add"  # moto lacks the attribute; an existing one is an error
    ADD_IF_ABSENT = "add_if_absent"  # moto may gain the attribute; then the patch is skipped


def target_name(owner: Any, attribute: str) -> str:
    """Dotted name of ``owner.attribute``, e.g. ``moto.s3.models.FakeBucket.get_permission``."""
    if isinstance(owner, types.ModuleType):
        return f"{owner.__name__}.{attribute}"
    module = getattr(owner, "__module__", type(owner).__module__)
    return f"{module}.{getattr(owner, '__qualname__', type(owner).__qualname__)}.{attribute}"


@dataclass(frozen=True)
class Patch:
    """Change ``owner.attribute`` while the owning extension is installed.

    Build one with ``wrap``, ``replace``, ``add`` or ``add_if_absent``, which say what
    the patch expects of moto. ``build`` receives the attribute as moto stores it (the
    raw ``staticmethod`` object for static methods, found on the owner or inherited;
    ``None`` for additions) and returns the replacement, so wrappers always wrap what
    is there now.
    """

    owner: Any
    attribute: str
    build: Callable[[Any], Any]
    kind: PatchKind

    @classmethod
    def wrap(cls, owner: Any, attribute: str, wrapper: Callable[[Any], Any]) -> Patch:
        """Set ``owner.attribute = wrapper(original)``; the original must exist."""
        return cls(owner, attribute, wrapper, PatchKind.WRAP)

    @classmethod
    def replace(cls, owner: Any, attribute: str, value: Any) -> Patch:
        """Set ``owner.attribute = value`` in place of an attribute that must exist."""
        return cls(owner, attribute, lambda _original: value, PatchKind.REPLACE)

    @classmethod
    def add(cls, owner: Any, attribute: str, value: Any) -> Patch:
        """Add ``owner.attribute = value``, which moto lacks; fails if moto has it."""
        return cls(owner, attribute, lambda _original: value, PatchKind.ADD)

    @classmethod
    def add_if_absent(cls, owner: Any, attribute: str, value: Any) -> Patch:
        """Add ``owner.attribute = value`` unless moto defines it; then skip (logged).

        For gaps a newer moto is expected to fill: the patch retires itself.
        """
        return cls(owner, attribute, lambda _original: value, PatchKind.ADD_IF_ABSENT)

    @property
    def target(self) -> str:
        """Dotted name of the patched attribute (for error messages)."""
        return target_name(self.owner, self.attribute)


class PatchExtension:
    """Base class for extensions made of attribute patches.

    Subclasses set ``name`` (and ``requires``, default none) and implement
    ``patches()``; ``install`` and ``uninstall`` are idempotent and restore the
    exact original objects. Installing is all or nothing: a missing target, an
    import error in ``patches()`` or an exception in ``on_install`` restores what
    was already patched and raises (``ExtensionInstallError`` for the first two,
    naming the extension). Override ``on_install``/``on_uninstall`` for
    non-attribute work (settings, environment variables); ``on_install`` must
    undo its own partial work if it fails.
    """

    name: str = ""
    requires: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []
        self._skipped: list[str] = []
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

    @property
    def skipped(self) -> list[str]:
        """Targets of ``add_if_absent`` patches skipped at install because moto has them."""
        return list(self._skipped)

    def _patches(self) -> Sequence[Patch]:
        # patches() imports moto and looks up its classes: a moved or renamed one is a
        # missing target too. Other AttributeErrors are bugs in patches(), left alone.
        try:
            return self.patches()
        except ImportError as exc:
            raise missing_target(self.name, _import_target(exc)) from exc
        except AttributeError as exc:
            owner, attribute = getattr(exc, "obj", None), getattr(exc, "name", None)
            target = target_name(owner, attribute) if owner is not None and attribute else ""
            if not target.startswith("moto."):
                raise
            raise missing_target(self.name, target) from exc

    def _apply(self, patch: Patch) -> None:
        present = inspect.getattr_static(patch.owner, patch.attribute, _MISSING)
        if patch.kind in (PatchKind.WRAP, PatchKind.REPLACE) and present is _MISSING:
            raise missing_target(self.name, patch.target)
        if patch.kind is PatchKind.ADD and present is not _MISSING:
            raise ExtensionInstallError(
                f"{self.name}: moto target {patch.target} already exists, but this patch adds it "
                f"(written for moto {SUPPORTED_MOTO_VERSION}, which lacks it): retire or rewrite the patch"
            )
        if patch.kind is PatchKind.ADD_IF_ABSENT and present is not _MISSING:
            LOGGER.warning("%s: moto defines %s itself; that addition is skipped", self.name, patch.target)
            self._skipped.append(patch.target)
            return
        replacement = patch.build(None if present is _MISSING else present)
        # Save the owner's own attribute (not an inherited one): restoring it, or deleting
        # ours when there was none, brings back exactly what was there.
        self._saved.append((patch.owner, patch.attribute, vars(patch.owner).get(patch.attribute, _MISSING)))
        setattr(patch.owner, patch.attribute, replacement)

    def _restore(self) -> None:
        while self._saved:
            owner, attribute, original = self._saved.pop()
            if original is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self._skipped.clear()

    def install(self, server: EmulatorServer) -> None:
        """Apply every patch, then ``on_install``; a second call without ``uninstall`` does nothing."""
        if self._installed:
            return
        try:
            for patch in self._patches():
                self._apply(patch)
            self.on_install(server)
        except BaseException:
            self._restore()
            raise
        self._installed = True

    def uninstall(self) -> None:
        """``on_uninstall``, then restore the originals in reverse order; safe to call twice."""
        if not self._installed:
            return
        try:
            self.on_uninstall()
        finally:
            self._restore()
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
