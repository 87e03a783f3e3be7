"""Small Sphinx fixes that keep the website clean and offline.

- sphinx-thebe can register its configuration script twice, which the browser
  reports as a console error ("THEBE_JS_URL has already been declared");
  drop repeated scripts from each page.
- pydata-sphinx-theme logs a console error when no colour mode is set; pages
  start in light mode (readers can still switch).
- docutils marks the bibliography `role="list"` but its entries are not list
  items, which axe-core reports as a critical ARIA error; drop the role.
"""

from __future__ import annotations


def _page_context(app, pagename, templatename, context, doctree):
    if not context.get("default_mode"):
        context["default_mode"] = "light"
    if "body" in context:
        context["body"] = context["body"].replace(
            '<div role="list" class="citation-list">', '<div class="citation-list">'
        )
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # A repeat differs only in priority, or in a filename of None versus "".
        key = (getattr(script, "filename", None) or "", getattr(script, "attributes", {}).get("body"))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
