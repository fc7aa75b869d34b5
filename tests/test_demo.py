"""`cdo-hub demo` runs the story end to end against the emulator and checks itself."""

import subprocess
import sys


def test_demo_runs_the_story(tmp_path):
    run = subprocess.run([sys.executable, "-m", "bot", "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The story ran end to end." in run.stdout
    assert "No call failed." in run.stdout
    assert not list(tmp_path.iterdir())  # the demo leaves nothing behind


def test_demo_on_postgres(postgres_url, tmp_path):
    run = subprocess.run([sys.executable, "-m", "bot", "demo", "--database", postgres_url], capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The story ran end to end." in run.stdout
