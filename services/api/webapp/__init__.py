"""The customer-success web app (``/app``), served by the API process.

Server-rendered HTML (Jinja2), charts as inline SVG drawn by ``charts.py``, and
one small hand-written script for the live feed: no CDN, no third-party code
in the browser, so the app works without internet access.
"""
