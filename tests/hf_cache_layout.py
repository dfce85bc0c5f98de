"""A fake local Hugging Face cache for tests, in huggingface_hub's layout: files are blobs named by
their hash, linked from snapshots/<commit>/, and refs/main names the commit."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def add_cached_repo(
    cache: Path,
    repo_id: str,
    files: dict[str, bytes | str | Path],
    commit: str = "0" * 40,
    main: bool = True,
) -> Path:
    """Put `files` (name -> content, or a real file to link to) in the cache as `repo_id` at `commit`;
    returns the snapshot folder. `main=False` leaves out refs/main (a revision fetched by hash)."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, content in files.items():
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):  # a big real file: linked, not copied
            target.symlink_to(content.resolve())
            continue
        data = content.encode() if isinstance(content, str) else content
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        target.symlink_to(os.path.relpath(blob, target.parent))
    if main:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    return snapshot


def config(model_type: str, architecture: str) -> str:
    return json.dumps({"model_type": model_type, "architectures": [architecture]})
