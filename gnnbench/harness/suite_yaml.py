"""Suite files read as YAML, strictly: what YAML 1.1 would silently read as something else is an error.

A key given twice in one mapping (PyYAML keeps the last), integers in octal, hexadecimal, binary or base 60, base-60
floats and the booleans ``yes``/``no``/``on``/``off`` each raise a :class:`ConfigError` naming the file and the
line, so a suite means what it reads as. Only ``yaml.SafeLoader`` semantics are used otherwise.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from gnnbench.errors import ConfigError, quoted

#: the integers a suite may write unquoted (YAML 1.1 also reads 017 as octal, 0x10, 0b10 and base-60 1:30)
DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


def read_yaml(path: Path) -> Any:
    """The file's YAML as plain Python values, read strictly (:class:`_StrictLoader`); a :class:`ConfigError`
    naming the file when it cannot be read, is not UTF-8 or is not valid YAML."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, None, f"cannot read suite file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(file, None, f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r})"
                          ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise ConfigError(file, None, f"invalid YAML at {where}: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:  # a control character (a NUL byte): located like the others
        line, column = text.count("\n", 0, exc.position) + 1, exc.position - text.rfind("\n", 0, exc.position)
        raise ConfigError(file, None, f"invalid YAML at line {line}, column {column}: character U+{exc.character:04X} "
                                      "is not allowed; YAML takes printable text only") from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, None, f"invalid YAML: {exc}") from None


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the module's checks. A key given twice in one mapping is refused; keys a merge
    (``<<: *anchor``) brings in may be overridden, as in plain YAML."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Mark] = {}  # key -> where it is first given
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # PyYAML's own construct_mapping reports it
            if key in seen:  # located at this one: the first is named
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first given at line {seen[key].line + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """A decimal integer; YAML 1.1's other forms are an error, not a silent other number: ``016`` is octal
        14, ``0x10`` is 16, ``1:30`` is 90 (base 60). One past the digits Python reads as a number is an error too."""
        try:
            value = super().construct_yaml_int(node)
        except ValueError:  # a decimal past sys.get_int_max_str_digits(): no count or seed is near it
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {len(node.value):,} characters, past the {sys.get_int_max_str_digits():,} "
                            "digits Python reads as a number", node.start_mark) from None
        if not DECIMAL_INT.fullmatch(node.value):
            raise yaml.constructor.ConstructorError(
                None, None, f"{quoted(node.value)} is not a decimal integer: YAML 1.1 reads it as {quoted(value)} "
                            "(octal, hexadecimal, binary or base 60); write the number in decimal without leading "
                            "zeros, or quote it for text", node.start_mark)
        return value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        """A float; YAML 1.1's base-60 form (``1:30.5``, which reads as 90.5) is an error."""
        value = super().construct_yaml_float(node)
        if ":" in node.value:
            raise yaml.constructor.ConstructorError(
                None, None, f"{quoted(node.value)} is a base-60 number in YAML 1.1 ({value}); write {value}, or quote "
                            "it for text", node.start_mark)
        return value

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        """``true`` or ``false``; YAML 1.1's other spellings are an error: ``yes``, ``no``, ``on`` and ``off`` read
        as booleans, so ``num_layers: yes`` would fail as "got True" and a scenario named ``off`` as a boolean."""
        value = super().construct_yaml_bool(node)
        if node.value.lower() not in ("true", "false"):
            raise yaml.constructor.ConstructorError(
                None, None, f"{quoted(node.value)} is a boolean in YAML 1.1 ({str(value).lower()}); write "
                            f"{str(value).lower()}, or quote it for text", node.start_mark)
        return value


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _StrictLoader.construct_yaml_bool)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
