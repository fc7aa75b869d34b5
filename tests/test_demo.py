"""`cdo-hub demo` runs the story end to end against the emulator and checks itself."""

import subprocess
import sys


def test_demo_runs_the_story(tmp_path):
    run = subprocess.run([sys.executable, "-m", "bot", "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The story ran end to end." in run.stdout
    assert "No call failed." in run.stdout
    assert not list(tmp_path.iterdir())  # the demo leaves nothing behind

    out = run.stdout
    # People and channels by name, never as raw Slack entities.
    assert "@Marc Lefevre (CMO)" in out and "@Claire Moreau (CEO)" in out and "#cdo-hub" in out
    assert "<@U" not in out and "<#C" not in out and "&amp;" not in out
    # The messages people get, as they read them: the pair nudge, the executive DM, the digest.
    assert "[ We're on it ]  [ Snooze a week ]  [ Blocked ]" in out
    assert "[ Nudge them again ]" in out
    assert "weekly digest" in out and "Never met in 90 days" in out
    # And what a new user does next.
    next_steps = out[out.index("What to do next") :]
    for command in ("manifest.json", "config.example.toml", "cdo-hub check-config", "cdo-hub db upgrade", "cdo-hub serve"):
        assert command in next_steps


def test_demo_on_postgres(postgres_url, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--database", postgres_url], capture_output=True, text=True, cwd=tmp_path, timeout=180
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The story ran end to end." in run.stdout
