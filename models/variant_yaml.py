"""Write and read `variant.yaml`, the flat description of one model variant.

The format is a deliberately small YAML subset so that no YAML library is needed on either side:
one `key: value` per line, values are integers, floats, `null`, double-quoted strings, bare words
([A-Za-z0-9_.-]) or flow lists of integers (`[-1, 3, 224, 224]`); `#` starts a comment line.
Any YAML parser reads it; `read()` below reads exactly this subset.
"""

import re

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _format(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    text = str(value)
    if _BARE.match(text) and text not in ("null", "true", "false", "yes", "no", "on", "off"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dumps(fields, comment=None):
    """`fields` is an ordered dict; keys are written in its order."""
    lines = [f"# {line}" for line in (comment or "").splitlines()]
    lines += [f"{key}: {_format(value)}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def _parse(text):
    text = text.strip()
    if text == "null":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_parse(part) for part in inner.split(",")] if inner else []
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read(path):
    fields = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"{path}:{number}: expected 'key: value', got {line.strip()!r}")
            fields[key.strip()] = _parse(value)
    return fields
