import sys
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pathlib import Path

# The source tree under test, whatever `gpuflow` the venv has installed (several worktrees share one venv).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
