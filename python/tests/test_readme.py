"""The README's Python examples, run as written."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title):
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_every_python_example_in_from_python_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", section("From Python"), flags=re.S)
    assert blocks, "the README's From Python section has no Python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "['setosa' 'versicolor' 'virginica']" in printed
