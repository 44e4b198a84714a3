"""A batch's runs of pairs on a Dask distributed cluster, for an archive too big for one
machine: the same chunk function the local processes run, submitted to the scheduler's
workers. The workers read the inputs and write the images themselves, so the inputs and
the output folder must be on a file system they share, at the same paths. distributed is
imported only here, only when a scheduler is named."""
from pathlib import Path

PACKAGE = 'dask[distributed]'


def check(address):
    """Raises ValueError with one line saying what to install, or what is wrong with the
    address, before anything is read or written."""
    try:
        from distributed.comm import get_address_host_port
    except ImportError:
        raise ValueError(f'--scheduler needs Dask distributed: pip install "{PACKAGE}"') from None
    try:
        get_address_host_port(address)
        if not address.startswith('tcp://'):
            raise ValueError('not a tcp:// address')
    except ValueError as e:
        raise ValueError(f'--scheduler {address}: {e}; give tcp://<host>:<port>, as the scheduler prints') from None


def connect(address):
    """A Client of the scheduler at `address` that has a worker, or OSError naming the
    address once Dask's connect timeout (distributed.comm.timeouts.connect, 30 s unless
    configured) has passed, instead of a hang."""
    import dask.config
    from dask.utils import parse_timedelta
    from distributed import Client
    timeout = parse_timedelta(dask.config.get('distributed.comm.timeouts.connect'))
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise OSError(f'no Dask scheduler reachable at {address}: {e}') from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        client.close()
        raise OSError(f'the Dask scheduler at {address} has no workers (waited {timeout:g} s)') from None
    try:    # the scheduler unpickles the tasks and the workers run them: both import the processing
        client.run_on_scheduler(exec, f'import {__package__}.run')
        client.run(exec, f'import {__package__}.run')
    except ImportError as e:
        client.close()
        raise OSError(f'the cluster at {address} cannot import the processing ({e}): install rockit as here '
                      "on the scheduler's and the workers' machines") from None
    return client


def threads(client):
    """The cluster's worker threads: how many runs it works on at once."""
    return sum(client.nthreads().values())


def gathered(client, function, chunks, out):
    """function(*chunk) for every chunk on the cluster; each one's results, in the chunks' order.
    The files a worker wrote must be in `out` here too: a worker that wrote them elsewhere
    would leave rows naming files that are not there."""
    from concurrent.futures import CancelledError
    from distributed import KilledWorker
    futures = [client.submit(function, *chunk, pure=False) for chunk in chunks]
    try:
        for future in futures:
            try:
                results = future.result()
            except (OSError, LookupError) as e:
                raise OSError(f'on the cluster: {e} (are the inputs and --out on a file system the workers '
                              'share, at the same paths?)') from None
            except (CancelledError, KilledWorker) as e:
                raise OSError(f'the cluster lost a run of pairs: {type(e).__name__}: {e}') from None
            for row, _ in results:
                if not (Path(out) / row['aa_file']).is_file():
                    raise OSError(f'{Path(out) / row["aa_file"]}: written by a worker but not here; --out must be '
                                  'on a file system the workers share, at the same path')
            yield results
    finally:
        client.cancel(futures)
