"""TryLock: `with TryLock(lock) as acquired:` runs the block either way, without waiting."""


class TryLock:
    def __init__(self, lock):
        self._lock = lock
        self._acquired = False

    def __enter__(self):
        self._acquired = self._lock.acquire(False)
        return self._acquired

    def __exit__(self, *_):
        if self._acquired:
            self._acquired = False
            self._lock.release()
