"""The business logic: stringsvc1's service, unchanged (Go kit's stringsvc2/service.go repeats it).

The middlewares of this example implement and wrap `StringService`; `BasicStringService`
is the implementation at the centre of the onion.
"""

from examples.stringsvc1.service import BasicStringService as BasicStringService
from examples.stringsvc1.service import EmptyStringError as EmptyStringError
from examples.stringsvc1.service import StringService as StringService

__all__ = ["BasicStringService", "EmptyStringError", "StringService"]
