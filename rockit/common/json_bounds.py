"""JSON within bounds a config or registry can mean: nesting no deeper than MAX_DEPTH,
integers that fit 64 bits, strings that are text and each key given once. Python's json
reader turns deeper nesting into a RecursionError and an integer of more than 4300 digits
into a ValueError, neither of which names the key; here each is found first (the nesting by
a scan of the text, the integers without converting them) and told as `key: problem`. A
\\ud800 escape alone decodes to half a UTF-16 pair, which no file, log line or terminal can
take (a log_name holding one made every log line fail). Of a key given twice json keeps the
last value unseen.
"""
import json
import re

MAX_DEPTH = 64
INTEGER_LIMIT = 2 ** 63
# A string runs to its closing quote or, unterminated, to the end of the text (json.loads then
# says where): a string token that could fail to match would be retried from every quote
# inside it, quadratic in a truncated file full of escaped quotes.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[\[\]{},:]', re.DOTALL)


class OutOfBounds(Exception):
    """JSON that reads but cannot be meant; str() is `key path: problem`."""

    def __init__(self, where, problem):
        super().__init__(f'{key_path(where)}: {problem}')


def loads(text):
    """text's JSON value, or OutOfBounds for the first thing in it past the bounds
    (json.JSONDecodeError for text that is not JSON)."""
    deep = too_deep(text)
    if deep is not None:
        raise OutOfBounds(deep[:4] + [...] * (len(deep) > 4), f'nested deeper than {MAX_DEPTH} levels')
    repeated = RepeatedKeys()
    data = json.loads(text, parse_int=read_integer, object_pairs_hook=repeated)
    huge = list(huge_integers(data))
    if huge:
        (where, digits), more = huge[0], f' (and {len(huge) - 1} more)' if len(huge) > 1 else ''
        raise OutOfBounds(where, f'an integer of {digits} digits is beyond 64 bits{more}')
    for where in half_pairs(data):
        raise OutOfBounds(where, 'a \\u escape of half a UTF-16 surrogate pair is not text')
    for where in repeated.where(data):
        raise OutOfBounds(where, 'given twice (only one value can be meant)')
    return data


def key_path(parts):
    """A key path as a config's problems name it: a.b[2].c (... where it is cut short)."""
    text = ''
    for part in parts:
        if part is ...:
            text += '...'
        else:
            text += f'[{part}]' if isinstance(part, int) else (f'.{part}' if text else str(part))
    return text or '(top level)'


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


def nodes(data, path=()):
    """(key path, value) of data and of everything in it, each container before its contents
    (nesting already bounded)."""
    yield list(path), data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from nodes(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from nodes(value, path + (index,))


def huge_integers(data):
    """(key path, digits) of every HugeInteger in data."""
    for path, value in nodes(data):
        if isinstance(value, HugeInteger):
            yield path, len(value.digits.lstrip('-'))


def _is_text(value):
    try:
        value.encode('utf-8')
        return True
    except UnicodeEncodeError:
        return False


def half_pairs(data):
    """Key path of every key or string in data holding a lone UTF-16 surrogate."""
    for path, value in nodes(data):
        if isinstance(value, str) and not _is_text(value):
            yield path
        elif isinstance(value, dict):
            for key in value:
                if not _is_text(key):
                    yield path + [key.encode('utf-8', 'backslashreplace').decode()]


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

    def where(self, data):
        """Key path of every key given twice in data, the data these pairs were read into."""
        for path, value in nodes(data):
            if isinstance(value, dict) and id(value) in self._repeated:
                yield path + [self._repeated[id(value)]]
