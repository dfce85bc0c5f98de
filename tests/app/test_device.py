"""--device cpu|cuda|mps: checked against this torch (one line naming the devices it has), remembered,
and where the opened model goes."""

from __future__ import annotations

import pytest
import torch

from seqviz import cli
from seqviz.app.viewer import runs
from seqviz.app.window.settings import AppSettings
from seqviz.core import devices
from seqviz.core.devices import DeviceError, check_device

NO_GPU = not torch.cuda.is_available()


def test_the_cpu_is_always_there_and_names_are_read_loosely():
    assert check_device("cpu") == "cpu" and check_device(" CPU ") == "cpu"
    with pytest.raises(DeviceError, match=r"unknown device 'tpu': use cpu, cuda, mps \(or cuda:N\)"):
        check_device("tpu")


def test_a_device_this_torch_lacks_is_refused_naming_those_it_has(monkeypatch):
    monkeypatch.setattr(devices, "available_devices", lambda: ["cpu"])
    with pytest.raises(DeviceError) as caught:
        check_device("cuda")
    message = str(caught.value)
    assert message == f"device 'cuda' is not available: this torch ({torch.__version__}) has cpu"
    monkeypatch.setattr(devices, "available_devices", lambda: ["cpu", "cuda", "cuda:1", "mps"])
    assert (check_device("cuda:0"), check_device("cuda:1"), check_device("mps")) == ("cuda", "cuda:1", "mps")


@pytest.mark.skipif(not NO_GPU, reason="this machine has a GPU")
@pytest.mark.parametrize("argv", [["--device", "cuda"], ["--device", "cuda", "--export", "x.png"]])
def test_the_command_line_refuses_a_missing_device_in_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"seqviz: --device: {_missing('cuda')}"]
    assert not (tmp_path / "x.png").exists()


def _missing(name: str) -> str:
    have = ", ".join(devices.available_devices())
    return f"device {name!r} is not available: this torch ({torch.__version__}) has {have}"


def test_the_device_is_remembered_and_used_by_the_window(qtbot):
    assert AppSettings().device == "cpu"
    AppSettings().device = "cuda"
    from seqviz.app.window.main_window import MainWindow

    window = MainWindow(lazy_panels=True)
    qtbot.addWidget(window)
    assert window.session.device == "cuda"


class Movable:
    label = "movable"

    def __init__(self) -> None:
        self.moved_to: list[str] = []

    def to_device(self, device: str) -> None:
        self.moved_to.append(device)


def test_a_model_goes_to_the_device_or_says_it_cannot(monkeypatch):
    monkeypatch.setattr(devices, "available_devices", lambda: ["cpu", "cuda"])
    model = Movable()
    assert runs.on_device(model, "cpu") is model and model.moved_to == []
    assert runs.on_device(model, "cuda") is model and model.moved_to == ["cuda"]
    lstm = runs.load(torch.nn.LSTM(3, 4))
    with pytest.raises(DeviceError, match="LSTM runs on the CPU only: open it with --device cpu"):
        runs.on_device(lstm, "cuda")


def test_a_remembered_device_this_machine_lacks_falls_back_to_the_cpu_and_is_forgotten(
    qtbot, monkeypatch, dialog_log
):
    """--device cuda remembered on another machine: every model still opens, on the CPU, with a note."""
    monkeypatch.setattr(devices, "available_devices", lambda: ["cpu"])
    AppSettings().device = "cuda"
    from seqviz.app.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_model("longrange-lstm") and dialog_log == []
    note = window.notices.label.text()
    assert "device 'cuda' is not available" in note and "running on the CPU instead" in note
    assert window.session.device == "cpu" and AppSettings().device == "cpu"
    assert window.open_model("longrange-gru") and dialog_log == []  # the next one opens plainly
