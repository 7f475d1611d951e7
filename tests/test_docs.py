"""The documentation stays complete and its links stay valid.

- every public name (``neurosim.__all__`` and the ``__all__`` of the public
  modules) is in ``docs/api.md``; every public function and class has a
  heading there, and its section names each of its parameters and public
  methods, so a new argument cannot go undocumented;
- every relative link and image in ``README.md``, ``docs/*.md`` and
  ``docs/scenarios/*.md`` points to an existing file, and an ``#anchor`` to
  an existing heading. Paths under ``docs/figures/`` are made by
  ``docs/make_figures.py``: they are checked only once that folder exists;
- every scenario in ``scenarios/`` has a page in ``docs/scenarios/`` and a
  link from ``docs/index.md``.

The Python examples of the pages run as doctests (``--doctest-glob='*.md'``
in ``pyproject.toml``).
"""

import importlib
import inspect
import os
import re
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

import pytest

import neurosim

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIGURES = DOCS / "figures"
API = DOCS / "api.md"

PUBLIC_MODULES = (
    "neurosim",
    "neurosim.backends",
    "neurosim.graph",
    "neurosim.activations",
    "neurosim.examples",
    "neurosim.datasets",
    "neurosim.losses",
    "neurosim.trace",
    "neurosim.plot",
    "neurosim.reference",
    "neurosim.optimizers",
    "neurosim.rules",
    "neurosim.errors",
    "neurosim.checkpoint",
)

# Classes whose constructor is private: users get instances from the engine
# or from the readers (``Trace.from_rows``, ``Trace.read_csv``).
PRIVATE_CONSTRUCTORS = {"neurosim.trace.Trace"}

PAGES = sorted(
    [ROOT / "README.md", *DOCS.glob("*.md"), *(DOCS / "scenarios").glob("*.md")]
)


# ----------------------------------------------------------------------
# reading markdown


def prose_lines(text):
    """``(line number, line)`` of the lines outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None:
            yield number, line


def headings(text):
    """``(line index, level, title)`` of the headings outside code blocks."""
    found = []
    for number, line in prose_lines(text):
        match = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if match:
            found.append((number - 1, len(match[1]), match[2]))
    return found


def slug(title, seen):
    """The anchor GitHub gives a heading (``seen`` counts repeated ones)."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    text = text.replace(" ", "-")
    count = seen.get(text, 0)
    seen[text] = count + 1
    return text if count == 0 else f"{text}-{count}"


def anchors(path):
    seen: dict[str, int] = {}
    return {slug(title, seen) for _, _, title in headings(read(path))}


def read(path):
    return path.read_text(encoding="utf-8")


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links_in(text):
    """``(line number, target)`` of every Markdown link and image in ``text``.

    Code blocks and inline code are not links.
    """
    for number, line in prose_lines(text):
        line = re.sub(r"`[^`]*`", "", line)
        for match in LINK.finditer(line):
            yield number, match[1]


def links(path):
    return links_in(read(path))


# ----------------------------------------------------------------------
# (a) the API reference


def public_names():
    """``(module name, name, object)`` for every name of a public ``__all__``."""
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


def spellings(module_name, name, obj):
    """How the page may name an object: by its module, or from ``neurosim``."""
    names = {f"{module_name}.{name}"}
    if name in neurosim.__all__ and getattr(neurosim, name) is obj:
        names.add(f"neurosim.{name}")
    return names


def mentioned(text, spelling):
    """Whether a qualified name is in ``text`` (not as part of a longer one)."""
    return re.search(rf"(?<![\w.]){re.escape(spelling)}(?!\w)", text) is not None


def has_word(text, word):
    """Whether a parameter or method name is in ``text``, ``obj.word`` too."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def section(text, spelling_set):
    """The text under the heading that names the object, up to the next
    heading of the same or a higher level; ``None`` without such a heading.
    """
    lines = text.splitlines()
    found = headings(text)
    for k, (index, level, title) in enumerate(found):
        if any(f"`{spelling}`" in title for spelling in spelling_set):
            end = next((i for i, lv, _ in found[k + 1 :] if lv <= level), len(lines))
            return "\n".join(lines[index:end])
    return None


def documented_callables():
    """Every public function and class, once each, with its spellings."""
    seen = set()
    for module_name, name, obj in public_names():
        if inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
            continue
        seen.add(id(obj))
        names = set()
        for other_module, other_name, other in public_names():
            if other is obj:
                names |= spellings(other_module, other_name, other)
        yield pytest.param(obj, frozenset(names), id=f"{module_name}.{name}")


def parameters(function):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin's constructor: nothing to list
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls")
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def own_members(cls):
    """Public methods and properties the class adds (not overrides).

    An override of a base class's method is documented with the base class.
    """
    inherited = {
        name for base in cls.__mro__[1:] for name in vars(base) if base is not object
    }
    for name, member in vars(cls).items():
        if name.startswith("_") or name in inherited:
            continue
        if isinstance(member, (classmethod, staticmethod)):
            yield name, member.__func__
        elif isinstance(member, (property, cached_property)):
            yield name, None
        elif inspect.isfunction(member):
            yield name, member


@pytest.mark.parametrize(
    ("module_name", "name"),
    [(module_name, name) for module_name, name, _ in public_names()],
)
def test_every_public_name_is_in_the_api_page(module_name, name):
    obj = getattr(importlib.import_module(module_name), name)
    text = read(API)
    names = spellings(module_name, name, obj)
    assert any(mentioned(text, spelling) for spelling in names), (
        f"docs/api.md does not mention {' or '.join(sorted(names))}"
    )


@pytest.mark.parametrize(("obj", "names"), list(documented_callables()))
def test_every_function_and_class_has_a_complete_entry(obj, names):
    text = read(API)
    body = section(text, names)
    assert body is not None, (
        f"docs/api.md has no heading naming `{min(names)}`; add one with its signature"
    )
    missing = []
    qualified = f"{obj.__module__}.{obj.__qualname__}"
    if not inspect.isclass(obj):
        missing += [p for p in parameters(obj) if not has_word(body, p)]
    else:
        if qualified not in PRIVATE_CONSTRUCTORS:
            missing += [p for p in parameters(obj) if not has_word(body, p)]
        for member, function in own_members(obj):
            if not has_word(body, member):
                missing.append(member)
            elif function is not None:
                missing += [
                    f"{member}({p})"
                    for p in parameters(function)
                    if not has_word(body, p)
                ]
    assert not missing, (
        f"the entry of `{min(names)}` in docs/api.md does not mention: "
        + ", ".join(missing)
    )


def test_the_section_finder_reads_headings_not_code():
    text = "# A\n```\n# not a heading\n```\n## `x.f`\nbody\n## `x.g`\nother\n"
    assert section(text, {"x.f"}) == "## `x.f`\nbody"
    assert section(text, {"x.h"}) is None


# ----------------------------------------------------------------------
# (b) links and images


def local_links():
    for page in PAGES:
        for number, target in links(page):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, mailto:
                continue
            yield pytest.param(
                page, target, id=f"{page.relative_to(ROOT)}:{number}:{target}"
            )


def is_generated(path):
    return path == FIGURES or FIGURES in path.parents


@pytest.mark.parametrize(("page", "target"), list(local_links()))
def test_links_point_to_existing_files(page, target):
    where, _, anchor = target.partition("#")
    path = (page.parent / unquote(where)).resolve() if where else page
    if is_generated(path) and not FIGURES.is_dir():
        pytest.skip("docs/figures/ is not generated (python docs/make_figures.py)")
    rel = page.relative_to(ROOT)
    assert path.exists(), (
        f"{rel} links to {target}, but {os.path.relpath(path, ROOT)} does not exist"
        + (
            "; run python docs/make_figures.py to regenerate the figures"
            if is_generated(path)
            else ""
        )
    )
    if anchor and path.suffix == ".md":
        assert anchor in anchors(path), (
            f"{rel} links to {target}, but {path.name} has no heading with "
            f"the anchor #{anchor}"
        )


def test_the_link_finder_skips_code():
    text = (
        "See [a](a.md), [`b`](b.md#x) and ![c](figures/c.png).\n"
        "```\n[d](d.md)\n```\n"
        "Not a link: `[e](e.md)`.\n"
    )
    assert [t for _, t in links_in(text)] == ["a.md", "b.md#x", "figures/c.png"]


def test_slugs_follow_github():
    seen: dict[str, int] = {}
    assert slug("The article's missing f'(e)", seen) == "the-articles-missing-fe"
    assert slug("`neurosim.Network`", seen) == "neurosimnetwork"
    assert slug("Learning rules", seen) == "learning-rules"
    assert slug("Learning rules", seen) == "learning-rules-1"


# ----------------------------------------------------------------------
# (c) one page per scenario


SCENARIOS = sorted(
    path.stem
    for path in (ROOT / "scenarios").glob("*.py")
    if not path.name.startswith("_")
)


# The source documents are named by what they are: "seed 001" meant nothing to
# a user and read like the random --seed.
USER_FACING = sorted(
    [
        ROOT / "README.md",
        ROOT / "CHANGELOG.md",
        *DOCS.rglob("*.md"),
        *DOCS.rglob("*.ipynb"),
        *(ROOT / "neurosim").rglob("*.py"),
        *(ROOT / "scenarios").rglob("*.py"),
    ]
)
SOURCE_BY_NUMBER = re.compile(r"\bseeds?[\s_-]*0{2}[0-9]\b", re.IGNORECASE)


@pytest.mark.parametrize(
    "text",
    ["Seed 001 of the source material", "(seed 000)", "seed\n  002", "seed-003"],
)
def test_the_source_number_finder_finds_them(text):
    assert SOURCE_BY_NUMBER.search(text)


@pytest.mark.parametrize("text", ["--seed 0", "seed 0", "seed=1", "seed 0001"])
def test_the_source_number_finder_leaves_random_seeds_alone(text):
    assert not SOURCE_BY_NUMBER.search(text)


def test_user_facing_text_does_not_number_the_source_documents():
    assert len(USER_FACING) > 30
    found = []
    for path in USER_FACING:
        text = path.read_text(encoding="utf-8")
        for match in SOURCE_BY_NUMBER.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {match.group()!r}")
    assert found == [], "name the article, the worked example or the perceptron"


def test_there_are_scenarios():
    assert SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_has_a_page_linked_from_the_index(name):
    page = DOCS / "scenarios" / f"{name}.md"
    assert page.is_file(), f"scenarios/{name}.py has no page docs/scenarios/{name}.md"
    targets = {target.partition("#")[0] for _, target in links(DOCS / "index.md")}
    assert f"scenarios/{name}.md" in targets, (
        f"docs/index.md does not link to scenarios/{name}.md"
    )
    assert f"neurosim run {name}" in read(page), (
        f"docs/scenarios/{name}.md does not say how to run it"
    )
