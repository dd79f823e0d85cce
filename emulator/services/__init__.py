"""Whole AWS services moto lacks, one package each, laid out as moto lays out a service.

Each package holds ``models.py`` (a ``BaseBackend`` subclass per account and region),
``responses.py`` (a ``ServiceResponse`` subclass, one method per operation) and, in its
``__init__.py``, the ``ServiceBackendExtension`` that registers them (listed in
``emulator.patches.BUILTIN_EXTENSIONS``). See ``emulator/README.md``, "Adding a service backend".
"""
