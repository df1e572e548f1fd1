"""Small helpers shared by several pygokit packages.

Each module here holds one self-contained piece that more than one part of the
toolkit builds on, such as `pygokit.util.conn`, the reconnecting connection manager
behind the TCP metrics senders. Import the module you need; this package exports
nothing itself.
"""

__all__: list[str] = []
