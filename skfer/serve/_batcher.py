"""One model call per step for the faces of all the requests that arrive together."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class FaceBatcher:
    """Collect the faces that concurrent requests send to the model, and predict them in one call.

    A worker task on the event loop takes the first waiting batch of faces,
    waits ``wait_s`` seconds, takes the batches that arrived meanwhile or
    during the previous call (up to ``max_batch`` faces), and runs one
    ``predict_proba`` on all of them in a thread of its own, so that the event loop keeps serving. Each caller gets
    back the probabilities of its own faces. Use it as an async context
    manager: entering starts the worker, leaving stops it and fails the
    batches still waiting.

    Parameters
    ----------
    model : estimator
        A fitted classifier with ``predict_proba`` on faces of shape
        (n, 2304), pixel values 0-255.
    wait_s : float
        How long the worker waits for more faces after the first of a step.
    max_batch : int
        Faces per model call, at most (a single larger batch is not split).
    timeout_s : float, default=120.0
        How long :meth:`predict_from_thread` waits for its answer before
        raising ``TimeoutError`` (a worker thread never waits forever).

    Examples
    --------
    >>> import asyncio
    >>> import numpy as np
    >>> from skfer.pretrained import load_pretrained_onnx
    >>> from skfer.serve._batcher import FaceBatcher
    >>> async def two_requests(batcher):
    ...     async with batcher:
    ...         faces = np.full((1, 2304), 128, np.float32)
    ...         return await asyncio.gather(batcher.predict(faces), batcher.predict(faces))
    >>> batcher = FaceBatcher(load_pretrained_onnx(), wait_s=0.05, max_batch=256)
    >>> [proba.shape for proba in asyncio.run(two_requests(batcher))]
    [(1, 7), (1, 7)]
    >>> batcher.calls  # one model call for both requests
    1
    """

    def __init__(self, model, wait_s, max_batch, timeout_s=120.0):
        self.model = model
        self.wait_s = wait_s
        self.max_batch = max_batch
        self.timeout_s = timeout_s
        self.calls = 0

    async def __aenter__(self):
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="skfer-model")
        self._worker = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info):
        self._worker.cancel()
        try:
            await self._worker
        except asyncio.CancelledError:
            pass
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            _stop(future)
        # the model call in flight ends in its thread, unanswered: waiting for it would hold the event loop
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def predict(self, faces):
        """Probabilities of ``faces`` (n, 2304), predicted with the faces of the requests beside it."""
        if self._worker.done():  # stopped or failed: no one would answer
            raise RuntimeError("The service's model worker has stopped.")
        future = self._loop.create_future()
        self._queue.put_nowait((faces, future))
        return await future

    def predict_from_thread(self, faces):
        """:meth:`predict` for code running in a worker thread: waits there for the result."""
        return asyncio.run_coroutine_threadsafe(self.predict(faces), self._loop).result(timeout=self.timeout_s)

    async def _run(self):
        waiting = []  # a request taken from the queue that the last step had no room for
        while True:
            batch = [waiting.pop() if waiting else await self._queue.get()]
            try:
                await asyncio.sleep(self.wait_s)  # the requests that arrive meanwhile join this step
                size = len(batch[0][0])
                while not self._queue.empty():
                    request = self._queue.get_nowait()
                    if size + len(request[0]) > self.max_batch:
                        waiting.append(request)  # it opens the next step
                        break
                    batch.append(request)
                    size += len(request[0])
                batch = [(faces, future) for faces, future in batch if not future.done()]
                if not batch:
                    continue
                probas = await self._loop.run_in_executor(self._executor, self._predict, [f for f, _ in batch])
            except asyncio.CancelledError:  # stopping: nobody will answer the requests this worker holds
                for _, future in batch + waiting:
                    _stop(future)
                raise
            except Exception as exc:  # every caller of this step gets the model's error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for (_, future), proba in zip(batch, probas):
                    if not future.done():
                        future.set_result(proba)

    def _predict(self, batches):
        """One ``predict_proba`` call on the faces of all ``batches``, split back per batch."""
        self.calls += 1
        proba = self.model.predict_proba(np.concatenate(batches))
        proba = np.reshape(proba, (sum(map(len, batches)), -1))  # scikeras squeezes a single face's row
        return np.split(proba, np.cumsum([len(b) for b in batches])[:-1])


class BatchedPredictor:
    """A stand-in for the model that :func:`~skfer.predict_images` calls from a worker thread.

    ``predict_proba`` hands the faces to a :class:`FaceBatcher` and waits for
    their share of the batched call; ``classes_`` are the model's.

    Examples
    --------
    >>> from skfer.serve._batcher import BatchedPredictor
    >>> BatchedPredictor(batcher=None, classes=[0, 3]).classes_
    [0, 3]
    """

    def __init__(self, batcher, classes):
        self.batcher = batcher
        self.classes_ = classes

    def predict_proba(self, faces):
        return self.batcher.predict_from_thread(np.asarray(faces, dtype=np.float32))


def _stop(future):
    if not future.done():
        future.set_exception(RuntimeError("The service is shutting down."))
