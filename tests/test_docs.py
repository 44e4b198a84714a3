"""The README is a short front door to docs/, and every link between the pages lands."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / 'docs').glob('*.md'))
LINK = re.compile(r'\]\(([^)\s]+)\)')


def anchors(path):
    """GitHub's heading anchors of a markdown file (outside code blocks)."""
    found, fence = set(), False
    for line in path.read_text().splitlines():
        if line.startswith('```'):
            fence = not fence
        elif not fence and line.startswith('#'):
            title = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', line.lstrip('#').strip()).lower()
            found.add(re.sub(r'[^\w\- ]', '', title).replace(' ', '-'))
    return found


def relative_links(path):
    return [target for target in LINK.findall(path.read_text())
            if not re.match(r'[a-z]+:', target)]


def test_the_readme_is_short_and_keeps_the_two_commands():
    readme = (ROOT / 'README.md').read_text()
    assert len(readme.splitlines()) < 150
    assert 'make demo' in readme and 'make test' in readme


def test_the_readme_links_every_docs_page():
    linked = {(ROOT / target).resolve() for target in relative_links(ROOT / 'README.md')}
    assert PAGES and [page for page in PAGES if page.resolve() not in linked] == []


def test_every_relative_link_lands_on_a_file_and_heading():
    broken = []
    for source in [ROOT / 'README.md'] + PAGES:
        for target in relative_links(source):
            file, _, anchor = target.partition('#')
            path = (source.parent / file).resolve() if file else source
            if not path.exists() or (anchor and anchor not in anchors(path)):
                broken.append(f'{source.relative_to(ROOT)}: {target}')
    assert broken == []
