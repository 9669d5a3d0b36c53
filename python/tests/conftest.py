import sys
from pathlib import Path

# The handler files of the tests, and the source tree under test whatever `gpuflow` the venv has installed
# (several worktrees share one venv).
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
