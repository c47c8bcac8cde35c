"""The service's answer to bad input: a 4xx status and a JSON error naming what was wrong and where."""


class RequestError(Exception):
    """A request the service refuses: HTTP ``status``, a message, and the problem of each file or face.

    The body the client gets is ``{"error": message, "problems": problems}``,
    where each problem names its ``file`` (or ``face``) and the ``reason``.

    Parameters
    ----------
    status : int
        The HTTP status (4xx; 500 for a failure of the service itself).
    message : str
        What was wrong, in one sentence that names the file, field or face.
    problems : list of dict, default=()
        One ``{"file": ..., "reason": ...}`` (or ``"face"``) per item at fault.
    headers : dict, default=None
        Extra response headers (``Retry-After`` for a busy service).

    Examples
    --------
    >>> from skfer.serve._errors import RequestError
    >>> error = RequestError(413, "big.jpg: too large", [{"file": "big.jpg", "reason": "too large"}])
    >>> error.body()
    {'error': 'big.jpg: too large', 'problems': [{'file': 'big.jpg', 'reason': 'too large'}]}
    """

    def __init__(self, status, message, problems=(), headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = list(problems)
        self.headers = headers

    def body(self):
        """The JSON body of the response."""
        return {"error": self.message, "problems": self.problems}
