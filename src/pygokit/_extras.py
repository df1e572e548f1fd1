"""The error a backend module raises when its optional dependency is missing.

The core has no dependencies; each backend needs the packages of one extra. A
backend module starts with::

    try:
        import nats
    except ImportError as exc:
        raise missing_extra("pygokit.transport.nats", "nats") from exc

so a user who forgot the extra learns the exact command that fixes it.
"""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(module: str, extra: str) -> ImportError:
    """Return the ImportError for *module* when the packages of *extra* are missing."""
    return ImportError(
        f"{module} needs the optional dependencies of pygokit's '{extra}' extra;"
        f" install them with: pip install 'pygokit[{extra}]'",
        name=module,
    )
