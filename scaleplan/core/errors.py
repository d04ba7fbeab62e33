"""The one exception type for user mistakes; the CLI turns it into a message and exit code 2."""

import re

# numpy scalars put their type in repr() ('np.float64(0.5)'); a message shows the number as a person writes it.
_NUMPY_REPR = re.compile(r"np\.(?:float|int|uint|bool)_?\d*\(([^()]*)\)")

# An argument named in a message: <price>, <inference_tokens>, <moe.active_params>.
MARK = re.compile(r"<([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)>")


# arguments whose flag has another name (scaleplan.cluster.cost.Energy's fields, `cluster`'s flags)
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


# Public entry points (scaleplan.__all__) check what Python's own conversions would trip on, so a wrong type or an
# unrepresentable number is a ScaleplanError naming the argument, never a TypeError, AttributeError or OverflowError.
_NUMBER_WORDS = ("float", "int", "bool")
_TEXT_WORDS = ("str", "Path", "PathLike")


def _too_big(value) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) > 10**300
    if isinstance(value, (list, tuple)):
        return any(_too_big(v) for v in value[:1000])
    return False


def _wrong(name: str, value, annotation) -> str | None:
    """Why `value` cannot be argument `name` of this annotation (a string, as `from __future__ import annotations`
    keeps it), or None when it may be."""
    if _too_big(value):
        digits = len(str(abs(value if isinstance(value, int) else max(value, key=abs))))
        return f"<{name}> must be finite, got an integer of {digits} digits"
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if not text or text == "inspect._empty" or "_empty" in text:
        return None
    kinds = [k.strip() for k in text.split("|")]
    optional = "None" in kinds
    kinds = [k for k in kinds if k != "None"]
    if value is None and optional:
        return None
    if kinds and all(k in _NUMBER_WORDS for k in kinds):  # the function's own check says what number it takes
        return None
    if kinds and all(k in _TEXT_WORDS or k.startswith("os.") for k in kinds):
        return None  # the function's own reader says which file it wants
    classes = [k for k in kinds if k[:1].isupper() and k not in _TEXT_WORDS]
    if classes and len(classes) == len(kinds):  # an object of the package (a Hardware, Runs, Shape ...)
        names = {c.__name__ for c in type(value).__mro__}
        if not names & set(classes) and (isinstance(value, (int, float, bool, list, tuple, dict)) or "str" not in text):
            if isinstance(value, str) and "Law" in classes:
                return None  # a law name: the function looks it up
            if isinstance(value, str) and "Hardware" in classes:
                return None  # a preset name: the function looks it up
            return f"<{name}> must be a {' or '.join(classes)}, got {value!r}"
    return None


def checked(fn):
    """`fn` with its arguments' types checked first, and any conversion error it still raises as a ScaleplanError
    that names the arguments it could come from."""
    import functools

    signature = None

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        nonlocal signature
        if signature is None:
            import inspect

            signature = inspect.signature(fn)
        bound = signature.bind(*args, **kwargs)  # a call that does not fit the signature stays a TypeError
        items = []
        for name, value in bound.arguments.items():
            param = signature.parameters[name]
            if param.kind is param.VAR_KEYWORD:
                items += [(k, v, "") for k, v in value.items()]
            elif param.kind is not param.VAR_POSITIONAL:
                items.append((name, value, param.annotation))
        for name, value, annotation in items:
            why = _wrong(name, value, annotation)
            if why:
                raise ScaleplanError(why)
        try:
            return fn(*args, **kwargs)
        except ScaleplanError:
            raise
        except (TypeError, AttributeError, OverflowError, ValueError, ZeroDivisionError) as exc:
            odd = [n for n, v, _ in items if isinstance(v, (str, bool, list, tuple, dict)) or v is None]
            named = ", ".join(f"<{n}>" for n in (odd or [n for n, _, _ in items])) or "its arguments"
            raise ScaleplanError(f"{fn.__name__}: {named}: a value of the wrong type or size ({exc})") from exc

    wrapper.__wrapped__ = fn
    return wrapper
