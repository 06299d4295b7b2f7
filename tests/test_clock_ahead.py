"""
The openedx-verawood env (tox) runs the whole suite with the clock a year ahead: this guards that the
env really moves the clock (a wrapper dropped from its command would leave every test on today).
"""
import os
import subprocess
import time

import pytest

ahead = os.environ.get("MIIWRAP_CLOCK_AHEAD_DAYS")


@pytest.mark.skipif(not ahead, reason="only in the env that moves the clock (openedx-verawood)")
def test_every_process_runs_with_the_clock_moved_ahead():
    assert "faketime" in os.environ.get("LD_PRELOAD", ""), "libfaketime is preloaded"
    assert os.environ.get("FAKETIME") == f"+{ahead}d"
    # A child process without the preload reads the real clock: the difference is the shift.
    real = float(subprocess.run(["python3", "-c", "import time; print(time.time())"], capture_output=True, text=True,
                                env={**os.environ, "LD_PRELOAD": ""}, check=True).stdout)
    assert abs(time.time() - real - int(ahead) * 86400) < 600
