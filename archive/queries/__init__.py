"""Read-only questions researchers ask of the database.

The command line, the web app and the timeline plot all ask through this
package; none of them holds a statement of its own. Each module answers one
kind of question: :mod:`.summary` (what the archive holds), :mod:`.lookup`
(finding by address or words), :mod:`.coverage` (who covered a story, when),
:mod:`.versions` (how an article changed), :mod:`.captures` (every fetch of
an address).

The questions the exporters stream exist twice: as a statement
(``*_query``) whose rows they write, and as a library call returning typed
rows. Both use the same statement, so an export and a library call never
disagree.
"""

from archive.queries.captures import CaptureRow, captures_of, captures_query
from archive.queries.common import stream
from archive.queries.coverage import (
    NO_OUTLET,
    ArticleLine,
    CoverageRow,
    StoryRow,
    coverage,
    coverage_query,
    find_story,
    list_stories,
    timeline_data,
)
from archive.queries.lookup import TextMatch, alias_ids, find_article, find_url, search_text, urls_with_prefix
from archive.queries.summary import ArchiveSummary, ArticleRow, list_articles, summarize
from archive.queries.versions import CHANGE_COLUMNS, VersionRow, article_timeline, versions_query, with_changes

__all__ = [
    "CHANGE_COLUMNS",
    "NO_OUTLET",
    "ArchiveSummary",
    "ArticleLine",
    "ArticleRow",
    "CaptureRow",
    "CoverageRow",
    "StoryRow",
    "TextMatch",
    "VersionRow",
    "alias_ids",
    "article_timeline",
    "captures_of",
    "captures_query",
    "coverage",
    "coverage_query",
    "find_article",
    "find_story",
    "find_url",
    "list_articles",
    "list_stories",
    "search_text",
    "stream",
    "summarize",
    "timeline_data",
    "urls_with_prefix",
    "versions_query",
    "with_changes",
]
