"""docs/tutorial.ipynb runs top to bottom on the current code (so it cannot rot)."""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat

REPO = Path(__file__).resolve().parents[1]


def test_tutorial_notebook_executes(tmp_path):
    nb = nbformat.read(REPO / "docs" / "tutorial.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "baseline_2019" in text and "Seoul chose" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the outcome shares and the explanation
