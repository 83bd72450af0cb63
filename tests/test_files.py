import json
import os
import re

import pytest

from medtune.files import InputError, atomic_dir, read_jsonl

REQ = {"question": str, "answer": str}


def write(path, lines):
    path.write_bytes(b"".join(l if isinstance(l, bytes) else (l + "\n").encode() for l in lines))
    return path


def test_reads_rows(tmp_path):
    f = write(tmp_path / "a.jsonl", [json.dumps({"question": "q", "answer": "a"}), "", json.dumps({"question": "q2", "answer": "b"})])
    assert [r["question"] for r in read_jsonl(f, REQ)] == ["q", "q2"]


@pytest.mark.parametrize("line,message", [
    ('{"question": "q", "answer": ', "a.jsonl:2: malformed JSON"),
    ('{"question": "q"}', "a.jsonl:2: field 'answer' is missing"),
    ('{"question": "q", "answer": 3}', "a.jsonl:2: field 'answer' should be str, got int"),
    ('["q", "a"]', "a.jsonl:2: expected a JSON object"),
])
def test_bad_rows_name_file_line_and_field(tmp_path, line, message):
    f = write(tmp_path / "a.jsonl", [json.dumps({"question": "q", "answer": "a"}), line])
    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        list(read_jsonl(f, REQ))
    skipped = []
    assert len(list(read_jsonl(f, REQ, strict=False, skipped=skipped))) == 1
    assert skipped[0]["line"] == 2 and message.split(": ", 1)[1] in skipped[0]["reason"]


def test_non_utf8_line_stops_strict_and_is_skipped_and_counted_otherwise(tmp_path):
    """Issue 18.11: strict=false skipped bad rows but still stopped on a non-UTF-8 line."""
    f = write(tmp_path / "a.jsonl", [json.dumps({"question": "q", "answer": "a"}),
                                     b'{"question": "caf\xe9", "answer": "a"}\n', json.dumps({"question": "q3", "answer": "c"})])
    with pytest.raises(InputError, match="a.jsonl:2: not valid UTF-8"):
        list(read_jsonl(f, REQ))
    skipped = []
    assert [r["question"] for r in read_jsonl(f, REQ, strict=False, skipped=skipped)] == ["q", "q3"]
    assert len(skipped) == 1 and skipped[0]["line"] == 2 and "not valid UTF-8" in skipped[0]["reason"]


def test_malformed_json_message_reads_well(tmp_path):
    """Issue 18.12: json's "Unterminated string starting at" gave "... starting at at column 13"."""
    f = write(tmp_path / "a.jsonl", ['{"question": "q'])
    with pytest.raises(InputError) as e:
        list(read_jsonl(f, REQ))
    assert re.search(r"a\.jsonl:1: malformed JSON, column \d+: \w", str(e.value)) and "at at" not in str(e.value)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(InputError, match="empty.jsonl: file is empty"):
        list(read_jsonl(tmp_path / "empty.jsonl"))
    with pytest.raises(InputError, match="file not found"):
        list(read_jsonl(tmp_path / "missing.jsonl"))


def test_atomic_dir_keeps_old_outputs_on_failure(tmp_path):
    final = tmp_path / "out"
    with atomic_dir(final) as d:
        (d / "x").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_dir(final) as d:
            (d / "x").write_text("2")
            raise RuntimeError("boom")
    assert (final / "x").read_text() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path):
    """Issue 18.10: a killed data stage left data/.processed.tmp-* that no rerun removed."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    final = tmp_path / "processed"
    leftover = tmp_path / f".processed.tmp-{dead_pid}-abc123"
    old = tmp_path / f".processed.old-{dead_pid}"
    alive = tmp_path / f".processed.tmp-{os.getpid()}-running"  # a run still going: kept
    other = tmp_path / ".processed-notes"
    for folder in (leftover, old, alive, other):
        (folder / "train.jsonl").parent.mkdir()
        (folder / "train.jsonl").write_text("{}\n")
    with atomic_dir(final) as d:
        (d / "x").write_text("1")
        assert d.name.startswith(f".processed.tmp-{os.getpid()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".processed-notes", alive.name, "processed"])
