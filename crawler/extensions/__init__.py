"""Scrapy extensions of the news archive crawler (the WARC recorder lives in ``crawler.recorder``)."""
