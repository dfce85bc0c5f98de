"""The main window as a person uses it: stepping, keys, clicks, bad input, bad files, errors, settings."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel
from traces import encoder_decoder_trace, lstm_trace, shown, transformer_trace

from seqviz.app import MainWindow
from seqviz.app.panels.base import Panel
from seqviz.app.viewer.model import ViewerModel
from seqviz.app.window import dialogs
from seqviz.app.window.docks import DockArea
from seqviz.app.window.settings import AppSettings
from seqviz.demos import catalogue


def make_window(qtbot) -> MainWindow:
    window = shown(qtbot, MainWindow(), (1200, 700))
    window.activateWindow()
    window.tokens.strip.setFocus()
    return window


@pytest.fixture
def window(qtbot, dialog_log):
    return make_window(qtbot)


def press(window: MainWindow, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press as the window system delivers it: to the window, then the focused widget."""
    QTest.keyClick(window.windowHandle(), key, modifier)


def test_the_scripting_api_moves_slider_label_and_token_highlight(window):
    window.show_trace(lstm_trace(T=12))
    window.set_step(5)
    assert window.step == 5 and window.num_steps == 12
    assert window.toolbar.slider.value() == 5
    assert window.toolbar.step_label.text() == "step 5 / 12"
    strip = window.tokens.strip
    assert [strip.chip_kind(i) for i in (3, 4, 5)] == ["past", "current", "future"]
    window.set_step(99)  # clamped to T
    assert window.step == 12 and window.toolbar.step_label.text() == "step 12 / 12"


def test_dragging_the_slider_moves_the_step(window):
    window.show_trace(lstm_trace(T=12))
    window.toolbar.slider.setValue(9)
    assert window.step == 9 and window.tokens.strip.chip_kind(8) == "current"


def test_arrow_home_end_keys_step_through_the_input(window):
    window.show_trace(lstm_trace(T=12))
    assert window.step == 1
    press(window, Qt.Key.Key_Right)
    press(window, Qt.Key.Key_Right)
    assert window.step == 3
    press(window, Qt.Key.Key_Left)
    assert window.step == 2
    press(window, Qt.Key.Key_End)
    assert window.step == 12
    press(window, Qt.Key.Key_Home)
    assert window.step == 1


def test_keys_still_step_when_another_toolbar_control_has_focus(window):
    window.show_trace(lstm_trace(T=12))
    window.toolbar.slider.setFocus()
    press(window, Qt.Key.Key_Right)
    assert window.step == 2


def test_space_plays_and_pauses(window, qtbot):
    window.show_trace(lstm_trace(T=12))
    window.playback.set_speed(60)
    press(window, Qt.Key.Key_Space)
    assert window.playback.playing
    qtbot.waitUntil(lambda: window.step > 2)
    press(window, Qt.Key.Key_Space)
    assert not window.playback.playing
    paused_at = window.step
    QTest.qWait(50)
    assert window.step == paused_at


def test_keys_edit_the_text_while_the_text_field_has_focus(window):
    window.show_trace(lstm_trace(T=12))
    window.set_step(5)
    edit = window.toolbar.text_edit
    edit.setText("abc")
    edit.setFocus()
    for key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Space):
        press(window, key)
    assert window.step == 5
    assert edit.text() == "abc "  # Space typed a space
    press(window, Qt.Key.Key_Escape)  # back to stepping
    press(window, Qt.Key.Key_Right)
    assert window.step == 6


def test_clicking_a_token_jumps_to_its_step(window, qtbot):
    window.show_trace(lstm_trace(T=12))
    strip = window.tokens.strip
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.chip_rect(7).center())
    assert window.step == 8
    assert strip.chip_kind(7) == "current"


def test_a_sequence_to_sequence_trace_shows_source_and_output_rows(window):
    trace = encoder_decoder_trace(T=6, S=8)
    window.show_trace(trace)
    rows = window.tokens.strip.rows
    assert [r.tokens for r in rows] == [trace.source_tokens, trace.tokens]


def test_bidirectional_models_say_the_step_is_not_what_the_model_knew_so_far(window):
    window.show_trace(lstm_trace(T=12, bidirectional=True))
    assert window.notices.isVisible()
    assert any("whole input at once" in note for note in window.notices.notes)
    texts = [w.text() for w in window.statusBar().findChildren(QLabel)]
    assert not any("whole input at once" in t for t in texts)  # said once, in the notice bar
    window.show_trace(lstm_trace(T=12))
    assert not window.notices.isVisible()


def test_status_bar_shows_model_and_length(window):
    window.open_model("untrained-lstm", "hello")
    assert "LSTM" in window.status_model.text().upper()
    assert window.status_steps.text() == "T = 5"
    assert window.windowTitle().startswith("seqviz")


def test_empty_text_gives_a_message_and_keeps_the_trace(window):
    assert window.open_model("untrained-lstm", "hello")
    assert not window.set_text("")
    assert window.num_steps == 5  # the previous trace is still shown
    assert any("empty" in note for note in window.notices.notes)
    assert window.set_text("hi")
    assert not any("empty" in note for note in window.notices.notes)


def test_unknown_characters_are_shown_as_unk_with_a_note(window):
    assert window.open_model("untrained-lstm", "h\u00dfllo \u20ac")
    assert window.trace.tokens.count("<unk>") == 2
    assert any("'\u00df'" in note and "'\u20ac'" in note for note in window.notices.notes)
    assert window.text == "h\u00dfllo \u20ac"


def test_too_long_text_offers_truncation_and_keeps_the_typed_text(window):
    assert window.open_model("untrained-transformer", "hello")
    long_text = "ab" * 300  # 600 tokens, the model reads 512
    assert not window.set_text(long_text)
    assert any("600 tokens" in note and "512" in note for note in window.notices.notes)
    button = window.notices.action_button
    assert button.isVisible() and "512" in button.text()
    button.click()
    assert window.num_steps == 512
    assert window.text == long_text
    assert any("first 512 of 600" in note for note in window.notices.notes)


def test_a_bad_model_file_shows_the_error_and_keeps_the_previous_model(window, dialog_log, tmp_path):
    assert window.open_model("untrained-lstm", "hello")
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"this is not a model")
    assert not window.open_model(str(bad))
    assert len(dialog_log) == 1
    title, message = dialog_log[0]
    assert title == "Cannot open model" and "broken.safetensors" in message
    assert window.model.source == "untrained-lstm"
    assert window.num_steps == 5
    assert window.text == "hello"


def test_open_model_file_from_the_toolbar(window, dialog_log, tmp_path, qtbot):
    assert window.open_model("untrained-lstm", "hello")
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"\x80garbage")
    dialog_log.next_file = str(bad)
    window.commands.open_model.trigger()
    qtbot.waitUntil(lambda: len(dialog_log) == 1)
    assert "broken.pt" in dialog_log[0][1]
    assert window.model.source == "untrained-lstm"


def test_a_raw_lstm_state_dict_can_be_stepped_through(window, tmp_path):
    import torch

    path = tmp_path / "lstm.pt"
    torch.save(torch.nn.LSTM(3, 5, num_layers=2).state_dict(), path)
    assert window.open_model(str(path), "abcd")
    assert window.num_steps == 4 and window.trace["hidden"].shape == (4, 2, 1, 5)
    assert any("no tokenizer" in note for note in window.notices.notes)


def test_open_trace_from_the_toolbar(window, dialog_log, tmp_path):
    path = lstm_trace(T=7).save(tmp_path / "t.npz")
    dialog_log.next_file = str(path)
    window.commands.open_trace.trigger()
    assert window.num_steps == 7
    assert "t.npz" in window.status_model.text()
    (tmp_path / "bad.npz").write_bytes(b"nope")
    assert not window.open_trace(str(tmp_path / "bad.npz"))
    assert dialog_log[-1][0] == "Cannot open trace"
    assert window.num_steps == 7


def test_choosing_a_model_in_the_toolbar_loads_it(window, qtbot):
    assert window.open_model("untrained-lstm", "my own words")
    combo = window.toolbar.model_combo
    index = combo.findData("untrained-gru", Qt.ItemDataRole.UserRole + 1)
    combo.activated.emit(index)
    qtbot.waitUntil(lambda: window.model.source == "untrained-gru" and not window.session.jobs.busy)
    assert window.text == "my own words"  # typed text is kept across models
    assert window.trace.arch == "gru" and window.num_steps == len("my own words")


def test_models_are_grouped_by_task_with_descriptions(window):
    combo = window.toolbar.model_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert "UNTRAINED" in texts
    assert any(t.startswith("untrained-lstm \u2014 ") for t in texts)
    for widget in (combo, window.toolbar.text_edit, window.toolbar.slider, window.toolbar.speed_combo):
        assert widget.toolTip()
    for action in window.toolbar.actions():
        widget = window.toolbar.widgetForAction(action)
        assert action.isSeparator() or widget.toolTip(), widget


def test_generate_extends_the_text_and_the_panels_follow(window):
    assert window.open_model("untrained-lstm", "the ")
    assert window.generate(count=5, temperature=0)
    assert window.num_steps == 9 and window.step == 9
    assert len(window.text) == 9 and window.text.startswith("the ")
    assert window.tokens.strip.chip_kind(8) == "current"


def test_generate_with_a_transformer_extends_its_attention(window):
    assert window.open_model("untrained-transformer", "the ")
    assert window.generate(count=3, temperature=0.8)
    assert window.num_steps == 7 and window.step == 7 and len(window.text) == 7
    assert window.trace["attention"].shape[-2:] == (7, 7)


def test_generate_from_the_toolbar_runs_in_the_background_and_can_be_stopped(window, qtbot):
    assert window.open_model("untrained-lstm", "the ")
    window.toolbar.count_actions[2].trigger()  # 50 tokens
    window.commands.generate.trigger()
    assert window.commands.generate.text() == "Stop"
    qtbot.waitUntil(lambda: window.num_steps >= 6)
    window.commands.generate.trigger()  # stop
    qtbot.waitUntil(lambda: not window.session.jobs.busy)
    stopped_at = window.num_steps
    assert 6 <= stopped_at < 54 and window.commands.generate.text() == "Generate"
    assert window.text.startswith("the ") and len(window.text) == stopped_at


def test_generate_is_only_offered_for_language_models(window):
    window.show_trace(transformer_trace(causal=False))
    assert not window.generate(count=1)
    assert any("Generate needs" in note for note in window.notices.notes)


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_shows_a_dialog_and_the_app_keeps_running(window, dialog_log, monkeypatch):
    previous = dialogs.install_excepthook(window)
    try:
        window.show_trace(lstm_trace(T=12))
        # the layouts the new trace asked for, done: a resize calls follow_step too, and an exception
        # raised in a Qt virtual (resizeEvent) crashes PySide 6.11 instead of reaching the hook
        QApplication.processEvents()

        def broken_follow_step():
            raise RuntimeError("the strip broke")

        monkeypatch.setattr(window.tokens.strip, "follow_step", broken_follow_step)
        press(window, Qt.Key.Key_Right)
        assert dialog_log == [("Unexpected error", "RuntimeError: the strip broke")]
        assert window.step == 2
        monkeypatch.undo()
        press(window, Qt.Key.Key_Right)  # the app keeps working
        assert window.step == 3 and window.tokens.strip.chip_kind(2) == "current"
    finally:
        sys.excepthook = previous


def test_a_failing_panel_is_reported_and_the_others_still_update(qtbot, dialog_log):
    class Broken(Panel):
        name, title = "broken", "Broken"

        def show_trace(self, trace):
            raise ValueError("cannot draw")

    class Counter(Panel):
        name, title = "counter", "Counter"

        def show_trace(self, trace):
            self.shown = trace.num_steps

    viewer = ViewerModel()
    area = DockArea(viewer)
    qtbot.addWidget(area)
    area.add_panels([Broken, Counter])
    trace = lstm_trace(T=12)
    viewer.set_trace(trace)
    failures = area.set_trace(trace)
    assert failures == ["Broken: ValueError: cannot draw"]
    assert area.panels["counter"].shown == 12


def test_layout_model_text_and_speed_are_restored_at_next_launch(qtbot, dialog_log):
    first = make_window(qtbot)
    assert first.open_model("untrained-gru", "hello again")
    first.playback.set_speed(30)
    dock = next(iter(first.dock_area.docks.values()))
    dock.close()
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    second.start(wait=True)
    assert second.model.source == "untrained-gru"
    assert second.text == "hello again" and second.num_steps == len("hello again")
    assert second.playback.speed == 30
    assert second.dock_area.docks[dock.objectName().removeprefix("dock_")].isHidden()
    assert AppSettings().model == "untrained-gru"


def test_a_remembered_model_file_that_is_gone_falls_back_to_the_default(qtbot, dialog_log, tmp_path):
    settings = AppSettings()
    settings.model = str(tmp_path / "gone.safetensors")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.start(wait=True)
    assert window.model.source == catalogue.default_id()
    assert window.num_steps > 0
    assert any("Could not reopen" in note for note in window.notices.notes)
    assert dialog_log == []


def test_view_menu_reopens_a_closed_panel(window):
    if not window.dock_area.docks:
        pytest.skip("no dock panels yet")
    dock = next(iter(window.dock_area.docks.values()))
    dock.close()
    toggle = dock.toggleViewAction()
    assert toggle in window.view_menu.actions()
    toggle.trigger()
    assert dock.isVisible()


def test_wheel_and_clicks_outside_chips_do_not_crash(window, qtbot):
    window.show_trace(lstm_trace(T=300))
    strip = window.tokens.strip
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(strip.width() - 2, strip.height() - 1))
    QApplication.processEvents()
    assert 1 <= window.step <= 300
    assert np.isfinite(window.trace["hidden"]).all()
