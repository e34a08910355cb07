"""Text entries of the store (drawings, pages): kept as their UTF-8 bytes, sealed with their kind."""

from __future__ import annotations

from dla_docs.store import DrawingShelf, PageShelf, SealedFolder

TEXT = 'a page \u2713 with "quotes", \\ backslashes\nand a lone surrogate \udc80\n'


def test_a_text_entry_reads_back_exactly_and_is_stored_as_its_bytes(tmp_path):
    folder = SealedFolder(tmp_path / "cache")
    PageShelf(folder).put("ab" * 32, TEXT)
    assert PageShelf(SealedFolder(tmp_path / "cache")).get("ab" * 32) == TEXT
    (entry,) = (tmp_path / "cache" / "pages").iterdir()
    assert entry.read_bytes().partition(b"\n")[2] == TEXT.encode("utf-8", "surrogatepass")


def test_a_tampered_or_json_entry_is_no_text_and_text_no_json(tmp_path):
    folder = SealedFolder(tmp_path / "cache")
    DrawingShelf(folder).put("cd" * 32, "<svg/>")
    (entry,) = (tmp_path / "cache" / "svg").iterdir()
    assert folder.read(entry.relative_to(folder.root).as_posix(), "cd" * 32) is None  # text is not JSON
    folder.write("svg/" + "ef" * 32 + ".svg", "ef" * 32, "<svg/>")  # a JSON entry where text is kept
    assert DrawingShelf(folder).get("ef" * 32) is None
    data = entry.read_bytes()
    entry.write_bytes(data.replace(b"<svg/>", b"<svg onload='x'/>"))
    assert DrawingShelf(SealedFolder(tmp_path / "cache")).get("cd" * 32) is None
    assert DrawingShelf(SealedFolder(tmp_path / "cache", readable=False)).get("cd" * 32) is None
