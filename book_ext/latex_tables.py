"""HTML tables of the notebook outputs as real tables in the PDF (`make pdf`, LaTeX builder).

pandas gives a DataFrame or a Styler two representations: text/html, which the website shows, and
text/plain, which is all that myst-nb's LaTeX priority list leaves for the PDF. For a Styler that
plain text is ``<pandas.io.formats.style.Styler at 0x7f...>``, not the table. Before myst-nb picks
a representation (post-transform priority 4), this transform replaces every output bundle whose
HTML holds one table, and which has no image or LaTeX of its own, with a docutils table built from
that HTML: the PDF shows what the page shows. The website is not touched (LaTeX builds only).

Row spans (a MultiIndex's outer level) print their label in the first row of the span and leave
the cells below empty; column spans become docutils' ``morecols``.
"""

from __future__ import annotations

import html.parser
from dataclasses import dataclass, field

#: representations that the LaTeX build would show instead of the text/plain fallback
LATEX_READY = ("application/pdf", "image/png", "image/jpeg", "text/latex")


@dataclass
class Cell:
    text: str
    header: bool = False
    colspan: int = 1
    rowspan: int = 1


@dataclass
class HtmlTable:
    """One HTML table: caption, header rows, body rows and any text around the table."""

    caption: str = ""
    head: list[list[Cell]] = field(default_factory=list)
    body: list[list[Cell]] = field(default_factory=list)
    text_around: str = ""


class _TableParser(html.parser.HTMLParser):
    """Collects the tables of an HTML fragment; ignores <style> and <script> content."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[HtmlTable] = []
        self._table: HtmlTable | None = None
        self._in_head = False
        self._row: list[Cell] | None = None
        self._cell: Cell | None = None
        self._in_caption = False
        self._skip = 0          # depth inside <style>/<script>
        self._depth = 0         # nesting of <table> (a table inside a cell is flattened to text)
        self.outside: list[str] = []

    @staticmethod
    def _span(attrs: dict, name: str) -> int:
        try:
            return max(1, int(attrs.get(name) or 1))
        except ValueError:
            return 1

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self._depth += 1
            if self._depth == 1:
                self._table = HtmlTable()
                self.tables.append(self._table)
        elif self._depth != 1:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag in ("tbody", "tfoot"):
            self._in_head = False
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._row = []
            (self._table.head if self._in_head else self._table.body).append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = Cell("", header=(tag == "th"), colspan=self._span(attrs, "colspan"),
                              rowspan=self._span(attrs, "rowspan"))
            self._row.append(self._cell)
        elif tag == "br" and self._cell is not None:
            self._cell.text += " "

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        elif tag == "table":
            self._depth = max(0, self._depth - 1)
            if self._depth == 0:
                self._table = self._row = self._cell = None
                self._in_head = self._in_caption = False
        elif self._depth != 1:
            return
        elif tag == "thead":
            self._in_head = False
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._table is None:
            self.outside.append(data)
        elif self._cell is not None:
            self._cell.text += data
        elif self._in_caption:
            self._table.caption += data


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def parse_html_table(html_text: str) -> HtmlTable | None:
    """The one table of an HTML output (a pandas DataFrame or Styler), or None when the HTML holds
    no table or several (those keep myst-nb's text/plain fallback)."""
    parser = _TableParser()
    parser.feed(html_text)
    parser.close()
    if len(parser.tables) != 1:
        return None
    table = parser.tables[0]
    rows = [row for row in table.head + table.body if row]
    if not rows:
        return None
    for row in rows:
        for cell in row:
            cell.text = _clean(cell.text)
    table.head = [row for row in table.head if row]
    table.body = [row for row in table.body if row]
    table.caption = _clean(table.caption)
    table.text_around = _clean(" ".join(parser.outside))
    return table


def grid(rows: list[list[Cell]]) -> list[list[Cell | None]]:
    """Lay rows out on a grid: a row-spanning cell keeps its text in its first row and leaves empty
    cells below it; a column-spanning cell is followed by None for each column it covers."""
    out: list[list[Cell | None]] = []
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    for row in rows:
        line: list[Cell | None] = []
        cells = iter(row)
        column = 0
        while True:
            if pending.get(column, 0) > 0:
                pending[column] -= 1
                line.append(Cell("", header=True))
                column += 1
                continue
            cell = next(cells, None)
            if cell is None:
                break
            if cell.rowspan > 1:
                for c in range(column, column + cell.colspan):
                    pending[c] = cell.rowspan - 1
            line.append(cell)
            line.extend([None] * (cell.colspan - 1))
            column += cell.colspan
        # rowspans that reach past the last cell of this row
        while pending.get(column, 0) > 0:
            pending[column] -= 1
            line.append(Cell("", header=True))
            column += 1
        out.append(line)
    width = max(len(line) for line in out)
    for line in out:
        line.extend(Cell("") for _ in range(width - len(line)))
    return out


def table_nodes(table: HtmlTable) -> list:
    """docutils nodes of the table (with its caption as title) and of any text around it."""
    from docutils import nodes

    head = grid(table.head) if table.head else []
    body = grid(table.body) if table.body else []
    width = max(len(line) for line in head + body)
    for line in head + body:
        line.extend(Cell("") for _ in range(width - len(line)))

    def row_node(line: list[Cell | None]):
        row = nodes.row()
        for cell in line:
            if cell is None:
                continue
            entry = nodes.entry()
            if cell.colspan > 1:
                entry["morecols"] = cell.colspan - 1
            if cell.text:
                paragraph = nodes.paragraph()
                paragraph += nodes.strong(cell.text, cell.text) if cell.header else nodes.Text(cell.text)
                entry += paragraph
            row += entry
        return row

    table_node = nodes.table(classes=["output-table"])
    if table.caption:
        table_node += nodes.title(table.caption, table.caption)
    group = nodes.tgroup(cols=width)
    table_node += group
    for _ in range(width):
        group += nodes.colspec(colwidth=1)
    if head:
        thead = nodes.thead()
        for line in head:
            thead += row_node(line)
        group += thead
    tbody = nodes.tbody()
    for line in body or [[Cell("")] * width]:
        tbody += row_node(line)
    group += tbody
    result = [table_node]
    if table.text_around:
        result.append(nodes.paragraph(table.text_around, table.text_around))
    return result


def _bundle_html(bundle) -> str | None:
    """The HTML of a myst-nb mime bundle, or None when it has a representation LaTeX can show."""
    from docutils import nodes

    types = {child.get("mime_type"): child for child in bundle.children}
    if "text/html" not in types or any(mime in types for mime in LATEX_READY):
        return None
    return "".join(raw.astext() for raw in types["text/html"].findall(nodes.raw))


def _make_transform():
    from docutils import nodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class HtmlTablesForLatex(SphinxPostTransform):
        """Notebook outputs whose HTML is a table become docutils tables in LaTeX builds."""

        default_priority = 3  # before myst-nb's SelectMimeType (4) drops the HTML
        formats = ("latex",)

        def run(self, **kwargs) -> None:
            bundles = [node for node in self.document.findall(nodes.container)
                       if node.get("nb_element") == "mime_bundle"]
            for bundle in bundles:
                html_text = _bundle_html(bundle)
                table = parse_html_table(html_text) if html_text else None
                if table is not None:
                    bundle.replace_self(table_nodes(table))

    return HtmlTablesForLatex


def setup(app) -> None:
    app.add_post_transform(_make_transform())
