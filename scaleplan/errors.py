"""The one exception type for user mistakes; the CLI turns it into a message and exit code 2."""

import re

# numpy scalars put their type in repr() ('np.float64(0.5)'); a message shows the number as a person writes it.
_NUMPY_REPR = re.compile(r"np\.(?:float|int|uint|bool)_?\d*\(([^()]*)\)")


class ScaleplanError(ValueError):
    """Bad input from the user: the message names the value and what is allowed."""

    def __init__(self, message: str = "", *args):
        super().__init__(_NUMPY_REPR.sub(r"\1", str(message)), *args)
