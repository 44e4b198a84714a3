"""Copies closed data files to a destination with the system's rsync, on a thread of its
own so that a slow or dead network never holds up acquisition.

Captures are closed once they have their final names (storage writes them under hidden
temporary names first); health CSVs once their day has ended. Each cycle sends the files
not yet sent, in batches: rsync keeps partial files for the next attempt (resumable),
checks each file's checksum after writing it, and a second rsync pass with --checksum
compares source and destination before a batch counts as sent (verified). What was sent
is listed in <root>/.transferred, so a restart does not send it again, and housekeeping
asks it before deleting. Every rsync has I/O and connection timeouts and a hard limit.
"""
import datetime
import os
import subprocess
import threading
from pathlib import Path

from rockit.common.files import TEMP_SUFFIX, atomic_write
from rockit.common.status import iso

SENT_LIST = '.transferred'
BATCH = 2000
IO_TIMEOUT_S = 60
HARD_LIMIT_S = 3600


def rsync_command(destination, timeout_s, ssh_key=None, ssh_port=None, known_hosts=None):
    """rsync's arguments before the source and destination (which _rsync puts after `--`)."""
    command = ['rsync', '--archive', '--partial', '--partial-dir=.rsync-partial', f'--timeout={timeout_s}',
               '--from0', '--files-from=-']
    if ':' in destination.split('/', 1)[0]:
        ssh = ['ssh', '-o', 'BatchMode=yes', '-o', f'ConnectTimeout={timeout_s}',
               '-o', f'ServerAliveInterval={max(1, timeout_s // 3)}', '-o', 'ServerAliveCountMax=3']
        if ssh_key:
            ssh += ['-i', str(ssh_key)]
        if ssh_port:
            ssh += ['-p', str(ssh_port)]
        if known_hosts:
            ssh += ['-o', f'UserKnownHostsFile={ssh_word(known_hosts)}']
        command += ['-e', ' '.join(rsync_word(arg) for arg in ssh)]
    return command


def rsync_word(arg):
    """arg as one word of rsync's -e string, which rsync splits at spaces itself: quoted in
    single quotes when it needs to be, a single quote inside doubled (rsync's own rule)."""
    if arg and all(c.isalnum() or c in '-_=./:@,+%' for c in arg):
        return arg
    return "'" + arg.replace("'", "''") + "'"


def ssh_word(value):
    """value as one word of an ssh -o option, where whitespace separates a list."""
    return f'"{value}"' if any(c.isspace() for c in value) else value


class Transfer:
    def __init__(self, settings, data_root, log, folder='.'):
        self.destination = settings['destination']
        self.interval_s = float(settings.get('interval_s', 600))
        timeout = int(settings.get('timeout_s', IO_TIMEOUT_S))
        key, known_hosts = (_beside(folder, settings.get(name)) for name in ('ssh_key', 'known_hosts'))
        self.command = rsync_command(self.destination, timeout, key, settings.get('ssh_port'), known_hosts)
        self.root = Path(data_root)
        self.log = log
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._process = None
        self._sent = None
        self.last_success = None
        self.last_error = None
        self.pending_files = None
        self._thread = threading.Thread(target=self._run, name='transfer', daemon=True)

    # What housekeeping and status ask (any thread).
    def sent(self, relative):
        with self._lock:
            return self._sent is not None and relative in self._sent

    def forget(self, relatives):
        """Files deleted from the disk since they were sent."""
        with self._lock:
            if self._sent is not None:
                self._sent.difference_update(relatives)

    def status(self):
        with self._lock:
            return {'destination': self.destination, 'last_success': iso(self.last_success),
                    'pending_files': self.pending_files, 'last_error': self.last_error}

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        self._thread.join(timeout=5)

    # The transfer thread.
    def _run(self):
        sent = self._load_sent()
        with self._lock:
            self._sent = sent
        while not self._stop.is_set():
            try:
                self.cycle()
            except Exception as e:      # never let the thread die: report and retry
                self._failed(f'{type(e).__name__}: {e}')
            self._stop.wait(self.interval_s)

    def cycle(self):
        """Send every closed file not sent yet, batch by batch; stops at the first failure.
        last_success is the end of the last cycle that sent (and verified) everything."""
        pending = self._closed_unsent()
        with self._lock:
            self.pending_files = len(pending)
        if not pending:
            return
        while pending and not self._stop.is_set():
            batch, pending = pending[:BATCH], pending[BATCH:]
            error = self._rsync(batch) or self._verify(batch)
            if error:
                self._failed(error)
                return
            self._record(batch)
            with self._lock:
                self.pending_files = len(pending)
        with self._lock:
            self.last_success, self.last_error = datetime.datetime.now(datetime.timezone.utc), None

    def _closed_unsent(self):
        today = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')
        found = []
        for folder in sorted(self.root.glob('????-??-??')):
            try:
                entries = sorted(folder.iterdir())
            except FileNotFoundError:       # emptied and removed by housekeeping meanwhile
                continue
            found += [f'{folder.name}/{p.name}' for p in entries
                      if p.is_file() and not p.name.startswith('.') and not p.name.endswith(TEMP_SUFFIX)]
        found += [f'health/{p.name}' for p in sorted(self.root.glob('health/*.csv')) if p.stem < today]
        with self._lock:
            return [name for name in found if name not in self._sent]

    def _rsync(self, batch, *options):
        command = self.command[:1] + list(options) + self.command[1:] + ['--', f'{self.root}/', self.destination]
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE)
            out, err = self._process.communicate(b'\0'.join(n.encode() for n in batch), timeout=HARD_LIMIT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            return f'rsync took longer than {HARD_LIMIT_S} s'
        except OSError as e:
            return f'cannot run rsync: {e}'
        finally:
            code = self._process.returncode if self._process else None
            self._process = None
        if self._stop.is_set():
            return 'stopped'
        if code != 0:
            lines = [line for line in err.decode(errors='replace').splitlines() if line.strip()]
            return f'rsync exit {code}: {lines[0] if lines else "no message"}'
        self._last_output = out.decode(errors='replace')
        return None

    def _verify(self, batch):
        """None when the destination holds every file of batch with the same checksum."""
        error = self._rsync(batch, '--checksum', '--dry-run', '--out-format=%n')
        if error:
            return f'verify: {error}'
        differing = [line for line in self._last_output.splitlines() if line and not line.endswith('/')]
        if differing:
            return f'verify: {len(differing)} file(s) differ at the destination, e.g. {differing[0]}'
        return None

    def _failed(self, error):
        with self._lock:
            changed = error != self.last_error
            self.last_error = error
        if changed:
            self.log.error('transfer to %s failed: %s', self.destination, error)

    def _record(self, batch):
        with self._lock:
            self._sent.update(batch)
        with open(self.root / SENT_LIST, 'a', encoding='utf-8') as f:
            f.write(''.join(f'{name}\n' for name in batch))

    def _load_sent(self):
        """The sent list, keeping only the files still on the disk (rewritten whole)."""
        path = self.root / SENT_LIST
        try:
            names = path.read_text(encoding='utf-8').splitlines()
        except FileNotFoundError:
            return set()
        kept = {name for name in names if name and os.path.exists(self.root / name)}
        if len(kept) < len(names):
            atomic_write(path, ''.join(f'{name}\n' for name in sorted(kept)).encode())
        return kept


def _beside(folder, path):
    """A configured path, relative ones taken from the config's folder."""
    return path if path is None or Path(path).is_absolute() else str(Path(folder) / path)
