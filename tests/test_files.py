import json

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


def test_non_utf8_empty_and_missing_files(tmp_path):
    f = write(tmp_path / "a.jsonl", [b'{"question": "caf\xe9", "answer": "a"}\n'])
    with pytest.raises(InputError, match="a.jsonl:1: not valid UTF-8"):
        list(read_jsonl(f, REQ, strict=False))
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
