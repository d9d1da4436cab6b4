"""Reading a YAML config file without trusting it.

A config file is small and hand-written, so anything else is refused with
the file's name (and a line when there is one) before it can cost time or
memory: a file over ``MAX_BYTES``, text that is not UTF-8, nesting deeper
than ``MAX_DEPTH``, aliases that expand past ``MAX_NODES`` nodes (the
"billion laughs"), and a key given twice in one mapping (YAML would silently
keep the last). Anchors, aliases and ``<<`` merge keys otherwise work.
"""

from __future__ import annotations

from typing import Any

import yaml

from djq.exceptions import ConfigurationError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load"]

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 100_000

try:
    from yaml import CParser as _Parser
except ImportError:  # PyYAML built without libyaml

    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)

_MERGE = "tag:yaml.org,2002:merge"


def load(path: str) -> Any:
    """The document in ``path`` as plain Python data; raises ConfigurationError."""
    text = _read(path)
    _check_depth(path, text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(path, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{path}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read config file ({exc.strerror})") from None
    if len(data) > MAX_BYTES:
        raise ConfigurationError(f"{path}: config file is larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigurationError(
            f"{path} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def _check_depth(path: str, text: str) -> None:
    """Refuse deep nesting from the event stream, which (unlike composing) does not recurse."""
    depth = 0
    for event in yaml.parse(text, Loader=_EventLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _marked(path, event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_size(path: str, root: yaml.Node) -> None:
    """Refuse documents whose aliases expand to more than MAX_NODES nodes (or into themselves)."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            busy.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_NODES:
                raise _marked(
                    path, node.start_mark, f"aliases expand to more than {MAX_NODES:,} values"
                )
            continue
        if key in sizes:
            continue
        if key in busy:
            raise _marked(path, node.start_mark, "an alias refers to a value that contains it")
        busy.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _marked(path: str, mark: Any, message: str) -> ConfigurationError:
    where = f"{path} line {mark.line + 1}" if mark is not None else path
    return ConfigurationError(f"{where}: {message}")


class _Constructor(yaml.constructor.SafeConstructor):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=False)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:  # unhashable: SafeConstructor reports it
                    continue
                if first is not key_node.start_mark:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first given on line {first.line + 1})",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


class _Loader(_Parser, _Constructor, yaml.resolver.Resolver):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


class _EventLoader(_Parser, yaml.resolver.BaseResolver):
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.resolver.BaseResolver.__init__(self)
