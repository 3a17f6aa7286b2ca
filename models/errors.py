"""The one error type a user can cause: bad file, bad rubric, empty essay."""


class RubricateError(Exception):
    """A problem the user can fix; the message names the file, the field and the fix.

    Front ends print it without a traceback (the CLI exits non-zero).
    """
