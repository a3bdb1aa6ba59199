"""Structure-aware mutations: change one place of a JSON document, of a flatbuffer object
tree (TFLite's object API) or of a protobuf message (ONNX), keeping the rest intact, so
inputs get past the first syntax check and reach the parser's deeper code."""
from __future__ import annotations

import copy
import json
import random
from typing import Any, List, Tuple

# values that break assumptions: wrong types, zero, negatives, huge and non-integral numbers
INTERESTING = [0, 1, -1, 2, 3, -128, 127, 255, 2 ** 31 - 1, -2 ** 31, 2 ** 31, 2 ** 53 + 1, 2 ** 63, 2 ** 64,
               -2 ** 63, 1.0, 0.5, -0.0, 1e308, 1e-320, "", "x", "../x", "a" * 300, "é\u0000", None, True, False,
               [], {}, [0], [-1], [1, 2, 3, 4], {"a": 1}]


def _interesting(rng: random.Random) -> Any:
    """One of INTERESTING, copied: the lists and dicts among them are put into documents that
    later mutations change (an inserted element, a new key), and the shared constants grew
    through a run until a safetensors run ran out of memory in _json_slots."""
    return copy.deepcopy(rng.choice(INTERESTING))


def _json_slots(doc: Any) -> List[Tuple[Any, Any]]:
    """Every (container, key) in the document, depth first."""
    slots, stack = [], [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in list(items):
            slots.append((node, key))
            if isinstance(value, (dict, list)):
                stack.append(value)
    return slots


def mutate_json_value(doc: Any, rng: random.Random) -> Any:
    slots = _json_slots(doc)
    if not slots:
        return _interesting(rng)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        container, key = rng.choice(slots)
        value = container[key]
        action = rng.randrange(9)
        if action == 0:
            container[key] = _interesting(rng)
        elif action == 1 and isinstance(value, (int, float)) and not isinstance(value, bool):
            container[key] = value + rng.choice((-1, 1, -value - 1, value, 2 ** 32, 0.0, 0.5))
        elif action == 2:
            del container[key]
            slots = _json_slots(doc)
            if not slots:
                return doc
        elif action == 3 and isinstance(container, list):
            container.insert(rng.randrange(len(container) + 1), value)
        elif action == 4:  # copy another place's value here (a name, a shape, a whole node)
            other_container, other_key = rng.choice(slots)
            container[key] = json.loads(json.dumps(other_container[other_key]))
        elif action == 5 and isinstance(container, dict):
            container[rng.choice(("x", "__metadata__", "", "tensors", "shape", "axis", key + "_"))] = value
        elif action == 6:
            container[key] = [value] if rng.random() < 0.5 else {"v": value}
        elif action == 7 and isinstance(value, str):
            container[key] = value[: rng.randrange(len(value) + 1)] + rng.choice(("", "0", "/", "\"", "\\", "é"))
        elif action == 8 and isinstance(value, list) and value:
            rng.shuffle(value)
        else:
            container[key] = _interesting(rng)
    return doc


def mutate_json_bytes(data: bytes, rng: random.Random) -> bytes:
    doc = mutate_json_value(json.loads(data), rng)
    return json.dumps(doc, indent=rng.choice((None, 1))).encode()


# ----- flatbuffer object API (tflite schema_py_generated *T classes) -----

def _object_slots(root: Any) -> List[Tuple[Any, Any]]:
    slots, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, list):
            items = list(enumerate(node))
        elif hasattr(node, "__dict__"):
            items = list(vars(node).items())
        else:
            continue
        for key, value in items:
            slots.append((node, key))
            if isinstance(value, list) or hasattr(value, "__dict__"):
                stack.append(value)
    return slots


def _get(container, key):
    return container[key] if isinstance(container, list) else getattr(container, key)


def _set(container, key, value):
    if isinstance(container, list):
        container[key] = value
    else:
        setattr(container, key, value)


FLATBUFFER_INTS = [0, 1, -1, 2, 3, 4, 7, 9, 100, 255, 2 ** 15, 2 ** 31 - 1, -2 ** 31]


def mutate_object_tree(root: Any, rng: random.Random) -> Any:
    """One or a few changes in an object tree: an int to a boundary value, a list shortened,
    grown or emptied, a field unset. Values keep their Python type, so the tree still serializes."""
    slots = _object_slots(root)
    for _ in range(rng.choice((1, 1, 2, 3))):
        container, key = rng.choice(slots)
        value = _get(container, key)
        if isinstance(value, bool):
            _set(container, key, not value)
        elif isinstance(value, int):
            _set(container, key, rng.choice(FLATBUFFER_INTS + [value + 1, value - 1]))
        elif isinstance(value, float):
            _set(container, key, rng.choice((0.0, -1.0, 1e30, float("nan"), float("inf"), value * 2)))
        elif isinstance(value, (bytes, str)):
            _set(container, key, value[: rng.randrange(len(value) + 1)])
        elif isinstance(value, list) and value:
            choice = rng.randrange(4)
            if choice == 0:
                del value[rng.randrange(len(value))]
            elif choice == 1:
                value.append(value[rng.randrange(len(value))])
            elif choice == 2 and all(isinstance(v, int) for v in value):
                value[rng.randrange(len(value))] = rng.choice(FLATBUFFER_INTS)
            else:
                value.clear()
        elif hasattr(value, "__len__") and hasattr(value, "dtype") and len(value):  # numpy vectors
            copy = value.copy()
            copy[rng.randrange(len(copy))] = rng.choice((0, 1, -1, 2 ** 31 - 1, 127))
            _set(container, key, copy if rng.random() < 0.7 else copy[: rng.randrange(len(copy))])
        elif value is not None and not isinstance(container, list) and rng.random() < 0.3:
            _set(container, key, None)
    return root


# ----- protobuf (onnx ModelProto) -----

def _message_slots(message) -> List[Tuple[Any, Any]]:
    slots, stack = [], [message]
    while stack:
        node = stack.pop()
        for field, value in node.ListFields():
            slots.append((node, field))
            if field.type == field.TYPE_MESSAGE:
                stack.extend(value if field.label == field.LABEL_REPEATED else [value])
    return slots


PROTO_INTS = [0, 1, -1, 2, 3, 7, 100, 2 ** 31 - 1, -2 ** 31, 2 ** 40]


def mutate_message(message, rng: random.Random, names: List[str]) -> None:
    """One or a few changes in a protobuf message: a scalar set to a boundary value, a name
    swapped for another name the model uses, a repeated field shortened, duplicated or cleared."""
    slots = _message_slots(message)
    for _ in range(rng.choice((1, 1, 2, 3))):
        node, field = rng.choice(slots)
        value = getattr(node, field.name)
        repeated = field.label == field.LABEL_REPEATED
        if repeated and len(value) and rng.random() < 0.5:
            choice = rng.randrange(3)
            if choice == 0:
                del value[rng.randrange(len(value))]
            elif choice == 1 and field.type != field.TYPE_MESSAGE:
                value.append(value[rng.randrange(len(value))])
            elif choice == 1:
                value.add().CopyFrom(value[rng.randrange(len(value))])
            else:
                del value[:]
            continue
        if field.type == field.TYPE_MESSAGE:
            continue
        new = _scalar(field, rng, names)
        if new is None:
            continue
        try:
            if repeated and len(value):
                value[rng.randrange(len(value))] = new
            elif not repeated:
                setattr(node, field.name, new)
        except (TypeError, ValueError):
            pass


def _scalar(field, rng: random.Random, names: List[str]):
    kinds = field.type
    if kinds in (field.TYPE_INT32, field.TYPE_SINT32, field.TYPE_SFIXED32, field.TYPE_ENUM):
        return rng.choice([v for v in PROTO_INTS if -2 ** 31 <= v < 2 ** 31])
    if kinds in (field.TYPE_INT64, field.TYPE_SINT64, field.TYPE_SFIXED64):
        return rng.choice(PROTO_INTS)
    if kinds in (field.TYPE_UINT32, field.TYPE_UINT64, field.TYPE_FIXED32, field.TYPE_FIXED64):
        return rng.choice((0, 1, 2, 255, 2 ** 31))
    if kinds in (field.TYPE_FLOAT, field.TYPE_DOUBLE):
        return rng.choice((0.0, -1.0, 1e30, float("nan"), float("inf")))
    if kinds == field.TYPE_BOOL:
        return rng.random() < 0.5
    if kinds == field.TYPE_STRING:
        return rng.choice(names + ["", "x", "Conv", "Relu", "Reshape", "com.microsoft"]) if names else ""
    if kinds == field.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 4, 8, 16))))
    return None
