"""The web service ``skfer serve`` runs: the model over HTTP, and a page to try it in a browser.

Needs the ``serve`` extra (``pip install "skfer[serve]"``: FastAPI, uvicorn,
python-multipart, fastapi-offline for the ``/docs`` assets, Pillow). Like
:mod:`skfer.cli`, it is an application on top of the library: it calls
:func:`~skfer.predict_images` for photos and the model's ``predict_proba``
for faces, and adds HTTP, limits and batching across requests.
"""

from ._app import make_app

__all__ = ["make_app"]
