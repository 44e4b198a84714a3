"""JSON within bounds a config can mean: nesting no deeper than MAX_DEPTH, integers that
fit 64 bits, and strings that are text. Python's json reader turns deeper nesting into a
RecursionError and an integer of more than 4300 digits into a ValueError, neither of which
names the key; here each is found first (the nesting by a scan of the text, the integers
without converting them) and told as `key: problem`. A \\ud800 escape alone decodes to half
a UTF-16 pair, which no file, log line or terminal can take (a log_name holding one made
every log line fail): half_pairs finds those.
"""
import json
import re

MAX_DEPTH = 64
INTEGER_LIMIT = 2 ** 63
# A string runs to its closing quote or, unterminated, to the end of the text (json.loads then
# says where): a string token that could fail to match would be retried from every quote
# inside it, quadratic in a truncated file full of escaped quotes.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[\[\]{},:]', re.DOTALL)


class HugeInteger(int):
    """An integer beyond INTEGER_LIMIT as the reader found it; its value is 0, its digits kept."""

    def __new__(cls, digits):
        self = super().__new__(cls, 0)
        self.digits = digits
        return self


def too_deep(text):
    """The key path ([keys and indexes]) where text nests deeper than MAX_DEPTH, or None."""
    stack = []      # per open container: [bracket, current key or index, expecting a key]
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in '[{':
            stack.append([token, 0 if token == '[' else None, token == '{'])
            if len(stack) > MAX_DEPTH:
                return [part for _, part, _ in stack[:-1]]
        elif token in ']}':
            if stack:
                stack.pop()
        elif token == ',':
            if stack and stack[-1][0] == '[':
                stack[-1][1] += 1
            elif stack:
                stack[-1][2] = True
        elif token == ':':
            if stack:
                stack[-1][2] = False
        elif stack and stack[-1][2]:        # a string where a key is expected
            try:
                stack[-1][1] = json.loads(token)
            except ValueError:
                stack[-1][1] = token[1:-1]
    return None


def read_integer(digits):
    """json.loads's parse_int: an int, or HugeInteger for one that cannot be meant."""
    if len(digits) > 20:
        return HugeInteger(digits)
    value = int(digits)
    return value if -INTEGER_LIMIT <= value < INTEGER_LIMIT else HugeInteger(digits)


def huge_integers(data, path=()):
    """(key path, digits) of every HugeInteger in data (nesting already bounded)."""
    if isinstance(data, HugeInteger):
        yield list(path), len(data.digits.lstrip('-'))
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from huge_integers(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from huge_integers(value, path + (index,))


def _is_text(value):
    try:
        value.encode('utf-8')
        return True
    except UnicodeEncodeError:
        return False


def half_pairs(data, path=()):
    """Key path of every key or string in data holding a lone UTF-16 surrogate."""
    if isinstance(data, str):
        if not _is_text(data):
            yield list(path)
    elif isinstance(data, dict):
        for key, value in data.items():
            if not _is_text(key):
                yield list(path) + [key.encode('utf-8', 'backslashreplace').decode()]
            else:
                yield from half_pairs(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from half_pairs(value, path + (index,))


class RepeatedKeys:
    """json.loads's object_pairs_hook: plain dicts as usual, noting each object that gives
    a key twice (json would keep the last one unseen); where() names them by key path."""

    def __init__(self):
        self._repeated = {}     # id of an object read -> the first key it gives twice

    def __call__(self, pairs):
        data = dict(pairs)
        if len(data) < len(pairs):
            seen = set()
            self._repeated[id(data)] = next(key for key, _ in pairs if key in seen or seen.add(key))
        return data

    def where(self, data, path=()):
        """Key path of every key given twice in data, the data these pairs were read into."""
        if isinstance(data, dict):
            if id(data) in self._repeated:
                yield list(path) + [self._repeated[id(data)]]
            for key, value in data.items():
                yield from self.where(value, path + (key,))
        elif isinstance(data, list):
            for index, value in enumerate(data):
                yield from self.where(value, path + (index,))
