"""The thin executables re-run themselves with the clone's .venv only when started by a
python outside any venv: a second venv (the el9 one) keeps its own interpreter."""
import subprocess
import sys
import venv

from support import ROOT

PROBE = 'import sys\n\ndef main():\n    print(sys.prefix)\n    return 0\n'
RUN = 'import sys; sys.argv[0] = {executable!r}; from rockit.launch import run; run("probe")'


def test_an_executable_run_by_another_venvs_python_stays_in_that_venv(tmp_path):
    other = tmp_path / 'other-venv'
    venv.create(other, with_pip=False)
    (tmp_path / 'probe.py').write_text(PROBE)
    result = subprocess.run([str(other / 'bin' / 'python'), '-c', RUN.format(executable=str(ROOT / 'focusd'))],
                            env={'PYTHONPATH': f'{tmp_path}:{ROOT}'}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(other)
    assert sys.prefix != str(other)
