"""seqviz.core must import without Qt, so it works in notebooks and training scripts; the panels'
Qt-free logic likewise, so it is tested without a window."""

import subprocess
import sys

BLOCK_QT = """
import sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt is blocked in this test: ' + name)
sys.meta_path.insert(0, BlockQt())
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_QT + code], capture_output=True, text=True, timeout=120
    )


def test_core_and_its_models_import_without_qt():
    code = """
import seqviz, seqviz.core
from seqviz.core import api, trace, tokenize, seqmodel, recurrent, modelfile
import torch
m = seqmodel.fresh_model('lstm')
t = seqviz.trace(m, 'hello')
assert t['hidden'].shape[0] == 5
print('ok')
"""
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_panel_logic_imports_and_runs_without_qt():
    code = """
import numpy as np
from seqviz.app.panels import gate_equations, output_ranking, traceinfo
from seqviz.core.trace import Trace
shape = (3, 1, 1, 2)
arrays = {n: np.full(shape, 0.5, np.float32) for n in ('hidden', 'update_gate', 'reset_gate', 'candidate')}
arrays['probs'] = np.array([[0.2, 0.8]] * 3, np.float32)
t = Trace(arrays, tokens=list('abc'), meta={'arch': 'gru', 'task': 'lm', 'output_labels': ['a', 'b']})
eq = gate_equations.gate_equation(t, traceinfo.gate_kind(t), 0, 0, 1, 2)
assert eq.previous == 0.5 and gate_equations.equation_text(eq, 'b')
assert output_ranking.OutputRanking(t).at(1, 2).labels == ['b', 'a']
print('ok')
"""
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_importing_seqviz_does_not_import_torch():
    # The app shows its window before torch loads (import torch takes ~2.5 s here).
    result = run("import seqviz, seqviz.core; print('torch' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
