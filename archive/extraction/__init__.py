"""The parts of article extraction: what a page says about itself, the news boilerplate
trafilatura keeps, and how the two are reconciled with trafilatura's text.

:func:`archive.extract.extract_article` is the entry point; these modules import lxml
and trafilatura at import time, so it loads them only when a page is extracted.
"""
