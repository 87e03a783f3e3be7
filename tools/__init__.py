"""Book tooling: student copies, slides, wheelhouse, first cells, repository address.

Kept outside the installed ``helpers`` package: these import nbformat,
nbconvert, jinja2 and yaml and read the clone's ``_config.yml``.
"""
