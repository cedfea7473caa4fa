"""The build's error types: each message is the one line shown to the user."""


class BuildError(RuntimeError):
    """A build that cannot go on; the message is the one line shown to the user.

    ``keep``: leave the (partial) build folder in place, e.g. so that the command in the message that
    reproduces an RTL simulation mismatch still works."""

    def __init__(self, message: str, keep: bool = False):
        super().__init__(message)
        self.keep = keep
