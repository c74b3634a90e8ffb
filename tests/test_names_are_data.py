"""Names are data (issue 22): a file or archive member's name is shown as written and never acts - not as
Markdown on the dashboard (an image fetched from an address of the file's choosing), not as ANSI escapes in
the terminal (a fake "Imported 999" line) - and a name that is not UTF-8 is shown with replacement
characters while its file is still imported."""

from __future__ import annotations

import html
import io
import json
import os
import re
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from loadwatch.dashboard.cli.main import main
from loadwatch.ingest.store import Store
from loadwatch.ingest.synth import SynthRun, fit_bytes
from loadwatch.metrics import fmt

pytestmark = pytest.mark.timeout(120)

IMAGE_NAME = "![x](http://127.0.0.1:9/track.png)"
ANSI_NAME = "\x1b[2K\x1b[1A\rImported 999"
T0 = datetime(2024, 5, 6, 6, 30, tzinfo=UTC)


def run(i: int, **kw) -> SynthRun:
    return SynthRun(start_utc=datetime(2024, 5, 1 + i, 7, tzinfo=UTC), duration_s=1200, distance_m=4000.0,
                    seed=i, **kw)


def render(markdown: str) -> str:
    """HTML as a CommonMark renderer with GitHub's tables and strikethrough makes it."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def visible(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


# --- the two functions ----------------------------------------------------------------------------------

def test_markdown_text_shows_an_image_name_as_written_and_fetches_nothing():
    shown = fmt.markdown_text(f"{IMAGE_NAME}.fit")
    out = render(shown)
    assert "<img" not in out and "<a " not in out
    assert visible(out) == f"{IMAGE_NAME}.fit"


@pytest.mark.parametrize("name", ["# heading.fit", "- item.fit", "12. item.fit", "> quote.fit", "<img src=x>.fit",
                                  "[link](http://h/).fit", "**bold**.fit", "a | b.fit", "~~gone~~.fit",
                                  "&lt;b&gt;.fit", "`code`.fit", "run_1_a.fit"])
def test_markdown_text_keeps_every_mark_literal(name):
    out = render(fmt.markdown_text(name))
    assert re.fullmatch(r"<p>.*</p>\s*", out, re.S), out
    assert visible(out) == name


def test_markdown_text_defuses_streamlits_own_directives():
    shown = fmt.markdown_text(":red[alarm] :material/warning: $x^2$ run.fit")
    assert not re.search(r"(?<!\\)(:[a-z]|\[|\$)", shown)  # every directive's opening mark is escaped
    assert shown.replace("\\", "") == ":red[alarm] :material/warning: $x^2$ run.fit"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_markdown_text_never_builds_a_link_image_or_block(text):
    out = render(fmt.markdown_text(text))
    tags = set(re.findall(r"<\s*([a-zA-Z0-9]+)", out))
    assert tags <= {"p", "pre", "code"}, (text, out)  # a paragraph (or indented code): never img, a, hN, list


def test_terminal_text_removes_escapes_and_replaces_undecodable_bytes():
    assert fmt.terminal_text(f"{ANSI_NAME}.fit") == "[2K[1AImported 999.fit"
    assert fmt.terminal_text(os.fsdecode(b"run-\xff.fit")) == "run-\ufffd.fit"
    assert fmt.terminal_text("evil\u202eexe.fit") == "evilexe.fit"  # no right-to-left override
    assert fmt.terminal_text("plain run.fit") == "plain run.fit"


# --- the terminal -------------------------------------------------------------------------------------------

def test_import_prints_no_escape_from_a_name(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"{ANSI_NAME}.fit").write_bytes(b"not a fit file at all")
    (folder / f"{ANSI_NAME} ok.fit").write_bytes(fit_bytes(run(1)))
    code = main(["import", "--db", str(tmp_path / "s.sqlite3"), "--workers", "0", str(folder)])
    assert code == 1
    out = capsys.readouterr()
    for stream in (out.out, out.err):
        assert "\x1b" not in stream and "\r" not in stream
    assert "failed: in/[2K[1AImported 999.fit: not a FIT file" in out.err
    assert out.out.splitlines()[-1] == "Imported 1, duplicates 0, skipped 0, failed 1"


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="file names there must be valid Unicode")
def test_a_name_that_is_not_utf8_is_imported_and_shown_with_replacement_characters(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    raw = os.path.join(os.fsencode(folder), b"l\xe4uf-\xff.fit")  # Latin-1 bytes: not UTF-8
    with open(raw, "wb") as fh:
        fh.write(fit_bytes(run(2)))
    db = tmp_path / "s.sqlite3"
    code = main(["import", "--db", str(db), "--workers", "1", str(folder)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "in/l\ufffduf-\ufffd.fit" in out.out
    assert out.out.splitlines()[-1] == "Imported 1, duplicates 0, skipped 0, failed 0"
    with Store(db) as store:
        assert len(store.activities()) == 1
    # and again, as JSON: the same name, valid UTF-8
    assert main(["import", "--db", str(db), "--json", str(folder)]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["file"] == "in/l\ufffduf-\ufffd.fit" and record["outcome"] == "duplicate"


def test_the_progress_bar_shows_a_name_with_markup_or_escapes_as_text():
    from loadwatch.dashboard.cli.term import ProgressBar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = ProgressBar(stream)
    bar(1, 2, "[bold red]fake[/] [/x]" + ANSI_NAME)  # unbalanced rich markup would raise
    bar.clear()
    assert "Imported 999" in stream.getvalue() or stream.getvalue() == ""
    assert "\x1b[1A\rImported" not in stream.getvalue()


def test_terminal_tables_show_names_without_escapes():
    from loadwatch.dashboard.cli.term import table

    out = table(["name"], [[f"{ANSI_NAME} run"]])
    assert "\x1b" not in out and "Imported 999 run" in out


# --- the dashboard ---------------------------------------------------------------------------------------

@pytest.mark.timeout(120)
@pytest.mark.slow
def test_import_page_shows_hostile_member_names_as_written(tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import PAGES_DIR, finish_imports, no_exceptions
    from tests.test_exports import truncated

    full = fit_bytes(SynthRun(T0, 3600, 10_000.0, seed=3))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{IMAGE_NAME}cut.fit", truncated(full, 0.45))  # partial: named in a warning
        zf.writestr(f"{ANSI_NAME}.fit", b"junk")  # failed
    at = AppTest.from_file(str(PAGES_DIR / "import_files.py"), default_timeout=60).run()
    at.file_uploader[0].set_value([("export.zip", buf.getvalue(), "application/zip")])
    at.run()
    [go] = [b for b in at.button if b.label.startswith("Import")]
    go.click().run()
    no_exceptions(at)
    finish_imports(at)  # the import runs in the background (issue 21): its result is drawn once it is done
    warnings = [w.value for w in at.warning]
    [named] = [w for w in warnings if "cut.fit" in w]
    out = render(named)
    assert "<img" not in out and "<a " not in out
    # the member's path is normalised as a path ("//" is one "/"): still image syntax, shown as written
    assert visible(out).startswith("export.zip/![x](http:/127.0.0.1:9/track.png)cut.fit (Mon 6 May 2024, run, ")
    assert all("\x1b" not in w for w in warnings)


def test_undecodable_name_helper_in_ingest_matches_the_faces():
    from loadwatch.ingest.sources import display_name

    raw = os.fsdecode(b"run-\xff.fit")
    assert display_name(raw) == fmt.terminal_text(raw) == "run-\ufffd.fit"
    assert display_name("plain.fit") == "plain.fit"
    assert Path(raw).name == raw  # the real name still opens the file


def test_shoes_page_shows_a_pair_named_by_an_export_as_written():
    """A pair's name can come from a Strava export's "Activity Gear" column: data, not Markdown."""
    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import PAGES_DIR, no_exceptions

    with Store() as s:
        s.add_shoe(f"{IMAGE_NAME} Pegasus", default=True)
    at = AppTest.from_file(str(PAGES_DIR / "shoes_sessions.py"), default_timeout=60).run()
    no_exceptions(at)
    [shown] = [m.value for m in at.markdown if "Pegasus" in m.value]
    out = render(shown)
    assert "<img" not in out and "<a " not in out
    assert visible(out).startswith(f"{IMAGE_NAME} Pegasus")
