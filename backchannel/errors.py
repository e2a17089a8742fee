"""One exception hierarchy for backchannel.

The core raises these; only ``backchannel.cli`` turns them into messages. Every
message is one line that a person can act on.

::

    BackchannelError
    ├── ConfigError            a config file that cannot be used (names file and key)
    ├── InputError             a bad value given on the command line or in a file
    │   ├── NotFoundError      an event, source, post or story that does not exist
    │   └── ConflictError      a duplicate slug or source
    ├── DatabaseError          the database cannot be used as it is
    │   └── SchemaOutOfDateError   needs ``backchannel db upgrade``
    ├── SourceError            one source failed during collection; others go on
    │   ├── AuthRequiredError  the server wants an access token (names the config key)
    │   ├── LoginError         a wrong Bluesky handle or app password (names the key)
    │   ├── MalformedResponseError  a page that is not what the API promises
    │   └── RetriesExhaustedError   5xx or network errors outlasted the retry budget
    ├── ExportError            the archive could not be written
    ├── SandboxError           the loopback sandbox could not start
    └── Interrupted            a stop was asked for while a job waited
        └── BudgetSpent        a source's time for this run is spent (resumes next run)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class BackchannelError(Exception):
    """Base of every error backchannel raises on purpose."""


class ConfigError(BackchannelError):
    """A configuration file that cannot be used.

    The message names the file, the key and what was expected.
    """

    def __init__(self, path: object, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")


class InputError(BackchannelError):
    """A bad value given on the command line or in a file.

    ``field`` names the input the value came from when it is known (see :func:`about`):
    the studio shows the message beside that field of its form.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@contextmanager
def about(field: str) -> Iterator[None]:
    """Name ``field`` as the input of an InputError raised inside, unless one is named."""
    try:
        yield
    except InputError as exc:
        exc.field = exc.field or field
        raise


class NotFoundError(InputError):
    """Something named does not exist."""


class ConflictError(InputError):
    """Something would be created twice."""


class DatabaseError(BackchannelError):
    """The database cannot be used as it is."""


class SchemaOutOfDateError(DatabaseError):
    """The database schema is older (or newer) than this version of backchannel."""


class SourceError(BackchannelError):
    """One source failed during collection. The other sources go on.

    The message is one short line (``mastodon.social: cannot resolve the host name``);
    ``detail`` keeps the long story (the library's own message, the tries), for ``-v``.
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class AuthRequiredError(SourceError):
    """The server answered 401, 403 or 422: it wants an access token."""


class LoginError(SourceError):
    """A login was refused (wrong handle, wrong password, missing secret)."""


class MalformedResponseError(SourceError):
    """A response that is not what the API promises. Nothing from it is stored."""


class RetriesExhaustedError(SourceError):
    """Server or network errors went on longer than the retry budget."""


class ExportError(BackchannelError):
    """The static archive could not be written."""


class SandboxError(BackchannelError):
    """The loopback sandbox could not start."""


class Interrupted(BackchannelError):
    """A stop was asked for (SIGTERM, Ctrl-C) while waiting; what was committed stays."""


class BudgetSpent(Interrupted):
    """A source's time budget for this run is spent: it stops where it is, its cursor
    saved, and the next run goes on from there."""
