"""examples/validate.ipynb runs top to bottom against the emulator (nbclient, a real Jupyter kernel), so it
cannot rot; it is committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[3]
NOTEBOOK = REPO / "examples" / "validate.ipynb"


def test_the_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


@pytest.mark.timeout(600)
def test_the_notebook_runs_against_the_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the kernel imports this tree's toolkit
    monkeypatch.setenv("TOOLKIT_CONFIG", str(REPO / "toolkit.yaml"))
    monkeypatch.setenv("TOOLKIT_SCENARIOS", "semantic-cache token-limit auth")
    monkeypatch.delenv("TOOLKIT_ENV", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for scenario in ("semantic-cache", "token-limit", "auth"):
        assert f"PASS          {scenario}" in text
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(images) >= 4  # region, cache hit, cache distances, token consumption
    tables = [o for o in outputs if o.output_type == "display_data" and "text/html" in o.data]
    assert any("p99 ms" in t.data["text/html"] for t in tables)
    assert (tmp_path / "validate-report" / "report.html").is_file()
