"""`clean()`: removes the folders RunPod's download/upload helpers write, as runpod's does."""

from __future__ import annotations

import os
import shutil


def clean(folder_list: list[str] | None = None) -> None:
    for folder in ["input_objects", "output_objects", "job_files", *(folder_list or [])]:
        shutil.rmtree(folder, ignore_errors=True)
    if os.path.exists("output.zip"):
        os.remove("output.zip")
