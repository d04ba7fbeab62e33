"""The one exception type for user mistakes; the CLI turns it into a message and exit code 2."""

import re

# numpy scalars put their type in repr() ('np.float64(0.5)'); a message shows the number as a person writes it.
_NUMPY_REPR = re.compile(r"np\.(?:float|int|uint|bool)_?\d*\(([^()]*)\)")

# An argument named in a message: <price>, <inference_tokens>, <moe.active_params>.
MARK = re.compile(r"<([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)>")


# arguments whose flag has another name (scaleplan.cost.Energy's fields, `cluster`'s flags)
_FLAG_NAMES = {"server_power_x": "server_power", "dollars_per_kwh": "kwh_price"}


def as_flag(name: str) -> str:
    """The CLI flag of an argument or budget key: inference_tokens -> --inference-tokens."""
    name = name.removeprefix("moe.")  # the moe block's keys are flags of their own (--active-params)
    name = _FLAG_NAMES.get(name, name)
    return "--" + name.replace("_", "-").replace(".", "-")


class ScaleplanError(ValueError):
    """Bad input from the user: the message names the value and what is allowed.

    The message names arguments as <name> marks: Python callers read the argument's name (`price`), the CLI the
    flag (`--price`, from `for_flags()`), so one message serves both.

    >>> str(ScaleplanError("<inference_tokens> must be zero or more"))
    'inference_tokens must be zero or more'
    >>> ScaleplanError("<inference_tokens> must be zero or more").for_flags()
    '--inference-tokens must be zero or more'
    """

    def __init__(self, message: str = "", *args):
        self.template = _NUMPY_REPR.sub(r"\1", str(message))
        super().__init__(MARK.sub(r"\1", self.template), *args)

    def for_flags(self) -> str:
        return MARK.sub(lambda m: as_flag(m.group(1)), self.template)
