"""Pictures, animations and headless export of a window (or one of its panels).

`pictures` lays a window out at a picture's size and renders it; `files` writes image and video files
atomically; `prep` keeps the screen's state (hover, caches) out of a picture; `dialogs` are the File menu's
export dialogs; `headless` is `main.py --export` without a window on screen.
"""

from seqviz.app.export.pictures import (
    copy_picture,
    current_size,
    export_animation,
    picture_target,
    render_picture,
    save_picture,
)

__all__ = [
    "copy_picture",
    "current_size",
    "export_animation",
    "picture_target",
    "render_picture",
    "save_picture",
]
