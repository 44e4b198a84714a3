"""pycam process --scheduler: the batch's runs of pairs on a Dask distributed cluster, here
a local one of two worker processes on loopback, with the pycam CLI run as a user runs it."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import distributed
import pytest

from processing_harness import CAL_1, ROOT, SEQ_1, needs_data, run_offline

INPUTS = [SEQ_1, '--darks', CAL_1, '--clear', CAL_1, '--calibration', CAL_1, '--distance', 5000,
          '--focal-length', 7.3]


def pycam(*args, cwd=ROOT, connect_timeout='20s', pythonpath=None):
    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=connect_timeout)
    if pythonpath:
        env['PYTHONPATH'] = os.pathsep.join([str(pythonpath), env.get('PYTHONPATH', '')])
    return subprocess.run([sys.executable, str(ROOT / 'pycam')] + [str(a) for a in args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=90)


def local_cluster(n_workers):
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host='127.0.0.1',
                                    scheduler_port=0, dashboard_address='127.0.0.1:0')


def shadowing(tmp_path, module):
    """A PYTHONPATH folder on which `module` cannot be imported, as on a machine without it."""
    folder = tmp_path / 'site' / module
    folder.mkdir(parents=True)
    (folder / '__init__.py').write_text(f"raise ModuleNotFoundError(\"No module named '{module}'\")\n")
    return tmp_path / 'site'


def dask_worker(scheduler_address, cwd, pythonpath, private_folder=None):
    """A `dask worker` process; with private_folder, in a mount namespace of its own where
    that folder is an empty tmpfs: a worker that does not share the folder."""
    command = [str(Path(sys.executable).parent / 'dask'), 'worker', scheduler_address, '--host', '127.0.0.1',
               '--nthreads', '1', '--no-dashboard']
    if private_folder:
        command = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
                   f'mount -t tmpfs tmpfs "{private_folder}" && exec "$@"', 'sh'] + command
    return subprocess.Popen(command, env=dict(os.environ, PYTHONPATH=str(pythonpath)), cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope='module')
def cluster():
    with local_cluster(2) as running:
        yield running


@pytest.fixture(scope='module')
def one_job(tmp_path_factory):
    out = tmp_path_factory.mktemp('one')
    code, _, err = run_offline('process', *INPUTS, '--out', out, '--jobs', 1)
    assert code == 0, err
    return (out / 'emission_rates.csv').read_text()


def chunks_run(cluster):
    return cluster.scheduler.task_prefixes['process_chunk'].state_counts['memory'] \
        if 'process_chunk' in cluster.scheduler.task_prefixes else 0


@needs_data
@pytest.mark.parametrize('jobs, chunks', [(None, 2), (3, 3)])
def test_the_cluster_writes_exactly_the_rows_of_one_job(cluster, one_job, tmp_path, jobs, chunks):
    before = chunks_run(cluster)
    done = pycam('process', *INPUTS, '--out', 'out', '--scheduler', cluster.scheduler_address,
                 *(['--jobs', jobs] if jobs else []), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f'{cluster.scheduler_address}, 2 worker threads' in done.stdout
    assert chunks_run(cluster) - before == chunks, 'one run per worker thread, or --jobs runs, done by the workers'
    out = tmp_path / 'out'
    assert (out / 'emission_rates.csv').read_text() == one_job
    rows = one_job.splitlines()[1:]
    assert len(rows) == 10
    for row in rows:
        aa_file, so2_file = row.split(',')[1:3]
        assert (out / aa_file).is_file() and (out / so2_file).is_file(), 'written by the workers under --out'


@needs_data
def test_settings_are_refused_before_the_cluster_is_asked(cluster, tmp_path):
    before = chunks_run(cluster)
    code, _, err = run_offline('process', *INPUTS, '--out', tmp_path / 'out', '--line', tmp_path / 'none.txt',
                               '--scheduler', cluster.scheduler_address)
    assert code != 0 and 'none.txt' in err
    assert chunks_run(cluster) == before and not (tmp_path / 'out').exists()


@needs_data
def test_a_scheduler_nobody_listens_on_is_named_without_a_traceback(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        address = f'tcp://127.0.0.1:{s.getsockname()[1]}'
    done = pycam('process', *INPUTS, '--out', tmp_path / 'out', '--scheduler', address, connect_timeout='1s')
    assert done.returncode != 0
    assert f'no Dask scheduler reachable at {address}' in done.stderr and 'Traceback' not in done.stderr
    assert not (tmp_path / 'out').exists()


@needs_data
def test_a_scheduler_without_workers_is_said(tmp_path):
    with local_cluster(0) as empty:
        done = pycam('process', *INPUTS, '--out', tmp_path / 'out', '--scheduler', empty.scheduler_address,
                     connect_timeout='1s')
    assert done.returncode != 0 and f'{empty.scheduler_address} has no workers' in done.stderr
    assert not (tmp_path / 'out').exists()


@needs_data
def test_workers_without_rockit_are_said_before_anything_is_written(tmp_path):
    with local_cluster(0) as cluster:
        worker = dask_worker(cluster.scheduler_address, tmp_path, shadowing(tmp_path, 'rockit'))
        try:
            done = pycam('process', *INPUTS, '--out', tmp_path / 'out', '--scheduler', cluster.scheduler_address)
        finally:
            worker.terminate()
            worker.communicate(timeout=30)
    assert done.returncode != 0
    assert f'the cluster at {cluster.scheduler_address} cannot import the processing' in done.stderr
    assert "No module named 'rockit'" in done.stderr and 'Traceback' not in done.stderr
    assert not (tmp_path / 'out').exists()


@needs_data
def test_an_out_folder_the_workers_do_not_share_stops_the_run_naming_a_file(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    with local_cluster(0) as cluster:
        worker = dask_worker(cluster.scheduler_address, tmp_path, ROOT, private_folder=out)
        try:
            done = pycam('process', *INPUTS, '--out', out, '--scheduler', cluster.scheduler_address)
        finally:
            worker.terminate()
            _, worker_err = worker.communicate(timeout=30)
    if 'mount' in worker_err and 'tmpfs' in worker_err:
        pytest.skip(f'cannot mount a tmpfs in a namespace of its own (needs root): {worker_err.strip()}')
    assert done.returncode != 0
    assert 'written by a worker but not here' in done.stderr and str(out / 'so2') in done.stderr
    assert not (out / 'emission_rates.csv').exists() or len((out / 'emission_rates.csv').read_text().splitlines()) <= 1


@pytest.mark.parametrize('address', ['8786', 'tcp://host', 'tls://127.0.0.1:8786'])
def test_an_address_that_is_not_tcp_host_port_is_refused(tmp_path, address):
    code, _, err = run_offline('process', SEQ_1, '--out', tmp_path, '--scheduler', address)
    assert code != 0 and f'--scheduler {address}' in err and 'tcp://<host>:<port>' in err


def test_without_distributed_installed_the_package_to_install_is_said(tmp_path):
    done = pycam('process', SEQ_1, '--out', tmp_path / 'out', '--scheduler', 'tcp://scheduler.invalid:8786',
                 pythonpath=shadowing(tmp_path, 'distributed'))
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == 'pycam: --scheduler needs Dask distributed: pip install "dask[distributed]"'
    assert not (tmp_path / 'out').exists()
