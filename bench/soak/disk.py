"""A small disk of its own for a data folder: a tmpfs when root (so that filling it touches
no one else's disk), and a way to fill it to the last byte and empty it again."""
import os
import subprocess
from pathlib import Path


def mount_tmpfs(folder, size_mb):
    """Mount a tmpfs of size_mb on folder; False (nothing mounted) when not root."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size_mb}m,mode=0755', 'tmpfs', str(folder)], check=True)
    return True


def unmount(folder):
    subprocess.run(['umount', '--lazy', str(folder)], check=False)


def fill(folder, name='.ballast'):
    """Write zeros into folder/name until the file system is full."""
    fd = os.open(Path(folder) / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(fd, bytes(size))
            except OSError:
                pass
    finally:
        os.close(fd)


def empty(folder, name='.ballast'):
    try:
        os.unlink(Path(folder) / name)
    except FileNotFoundError:
        pass
