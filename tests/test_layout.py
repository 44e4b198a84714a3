"""The layout's import rules (docs/layout.md), read from the source: bench/ has no import
circle, and processing's folders import one way, the daemon's and the batch's side using
the steps and never each other."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROCESSING = ROOT / 'rockit' / 'pycam' / 'processing'


def imported(path, package=None):
    """The modules path imports anywhere in it (inside functions too), relative imports
    resolved against package."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            found.update(f'{module}.{alias.name}' for alias in node.names)
    return found


def cycle(graph):
    """A list of nodes that import each other round, or None."""
    state = {}

    def visit(node, trail):
        state[node] = 'open'
        for other in graph.get(node, ()):
            if state.get(other) == 'open':
                return trail[trail.index(other):] + [other]
            if other not in state:
                found = visit(other, trail + [other])
                if found:
                    return found
        state[node] = 'done'
        return None

    for node in graph:
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_bench_modules_import_one_way():
    names = {path.stem for path in (ROOT / 'bench').glob('*.py')}
    graph = {path.stem: {name for name in imported(path) if name in names}
             for path in (ROOT / 'bench').glob('*.py')}
    assert cycle(graph) is None, f'bench modules import each other round: {" -> ".join(cycle(graph))}'
    assert {'compare', 'load'} <= names


def _processing_folder(module):
    """'live', 'batch', ... for a module in a folder of processing, '' at its top."""
    parts = module.split('.')[3:]
    return parts[0] if parts and (PROCESSING / parts[0]).is_dir() else ''


def test_processing_folders_import_one_way():
    """The steps at the top and calibration/, doas/, motion/ never import live/ or batch/
    (only the package's hook for pycamd does); live/ and batch/ never import each other."""
    wrong = []
    for path in sorted(PROCESSING.rglob('*.py')):
        parts = path.relative_to(ROOT).with_suffix('').parts
        module = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
        package = module if parts[-1] == '__init__' else module.rpartition('.')[0]
        if module == 'rockit.pycam.processing':
            continue
        mine = _processing_folder(module)
        for name in imported(path, package):
            if not name.startswith('rockit.pycam.processing.'):
                continue
            theirs = _processing_folder(name)
            if theirs in ('live', 'batch') and theirs != mine:
                wrong.append(f'{module} imports {name}')
    assert not wrong, wrong
    assert {'live', 'batch', 'calibration', 'doas', 'motion'} <= {p.name for p in PROCESSING.iterdir() if p.is_dir()}
