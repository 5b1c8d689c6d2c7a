//! Word documents (DOCX, written by `docx-rs`) for print and for a committee's agenda: A4 with
//! 2 cm margins, page numbers in the footer, a title page, a table of contents, headings that
//! Word's navigation pane and LibreOffice's navigator show (built-in "Heading 1"–"Heading 3"
//! with outline levels), paragraphs, lists, tables with a shaded header row, and pictures.

use docx_rs::{
    AlignmentType, BreakType, Docx, FieldCharType, Footer, Hyperlink, HyperlinkType, InstrPAGEREF,
    InstrText, LineSpacing, LineSpacingType, NumPages, PageMargin, PageNum, Paragraph, Pic, Run,
    RunFonts, Shading, Style, StyleType, Tab, TabLeaderType, TabValueType, Table, TableCell,
    TableRow, WidthType,
};

use super::RenderError;

/// A4 in twentieths of a point.
const A4: (u32, u32) = (11906, 16838);
/// 2 cm in twentieths of a point.
const MARGIN: i32 = 1134;
/// The width between the margins, in twentieths of a point.
const TEXT_WIDTH: usize = A4.0 as usize - 2 * MARGIN as usize;

/// A document being written, top to bottom.
pub struct Document {
    docx: Docx,
    blocks: Vec<Block>,
    /// Headings 1 and 2 for the table of contents: level, text, bookmark.
    headings: Vec<(usize, String, String)>,
}

/// A piece of the body, kept until the table of contents can be written.
enum Block {
    Paragraph(Box<Paragraph>),
    Table(Box<Table>),
    Contents,
}

/// The content type of a DOCX file.
pub const CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

fn heading_style(level: usize, size: usize) -> Style {
    Style::new(format!("Heading{level}"), StyleType::Paragraph)
        .name(format!("Heading {level}"))
        .based_on("Normal")
        .next("Normal")
        .q_format(true)
        .outline_lvl(level - 1)
        .bold()
        .size(size)
        .color("1F3864")
        .line_spacing(
            LineSpacing::new()
                .before(if level == 1 { 0 } else { 200 })
                .after(80),
        )
}

impl Document {
    /// An empty document; `page` is the footer's word before the page number ("Side").
    pub fn new(title: &str, page: &str, of: &str) -> Document {
        let footer = Footer::new().add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_text(format!("{title} · {page} ")).size(18))
                .add_page_num(PageNum::new())
                .add_run(Run::new().add_text(format!(" {of} ")).size(18))
                .add_num_pages(NumPages::new()),
        );
        let docx = Docx::new()
            .page_size(A4.0, A4.1)
            .page_margin(
                PageMargin::new()
                    .top(MARGIN)
                    .bottom(MARGIN)
                    .left(MARGIN)
                    .right(MARGIN)
                    .header(567)
                    .footer(567),
            )
            .default_fonts(
                RunFonts::new()
                    .ascii("Calibri")
                    .hi_ansi("Calibri")
                    .east_asia("Calibri")
                    .cs("Calibri"),
            )
            .default_size(22)
            .default_line_spacing(
                LineSpacing::new()
                    .line_rule(LineSpacingType::Auto)
                    .after(100)
                    .line(264),
            )
            .add_style(
                Style::new("Title", StyleType::Paragraph)
                    .name("Title")
                    .based_on("Normal")
                    .bold()
                    .size(56)
                    .color("1F3864"),
            )
            .add_style(heading_style(1, 32))
            .add_style(heading_style(2, 26))
            .add_style(heading_style(3, 23))
            .add_style(toc_style(1, 0))
            .add_style(toc_style(2, 240))
            .footer(footer);
        Document {
            docx,
            blocks: Vec::new(),
            headings: Vec::new(),
        }
    }

    fn add(mut self, p: Paragraph) -> Self {
        self.blocks.push(Block::Paragraph(Box::new(p)));
        self
    }

    /// The title page: the title, then each line, then a page break.
    pub fn title_page(mut self, title: &str, lines: &[String]) -> Self {
        self = self.add(
            Paragraph::new()
                .style("Title")
                .add_run(Run::new().add_text(title)),
        );
        for line in lines {
            self = self.add(Paragraph::new().add_run(Run::new().add_text(line).size(26)));
        }
        self.add(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)))
    }

    /// The table of contents of headings 1 and 2: a TOC field whose entries are written as the
    /// document is (with links to the headings), marked for Word to update it on opening, which
    /// fills in the page numbers.
    pub fn contents(mut self, heading: &str) -> Self {
        self = self.add(
            Paragraph::new()
                .add_run(Run::new().add_text(heading).bold().size(32))
                .keep_next(true),
        );
        self.blocks.push(Block::Contents);
        self.add(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)))
    }

    /// A heading of `level` 1–3, on a new page when `new_page`.
    pub fn heading(mut self, level: usize, text: &str, new_page: bool) -> Self {
        let level = level.clamp(1, 3);
        let mut p = Paragraph::new()
            .style(&format!("Heading{level}"))
            .keep_next(true)
            .page_break_before(new_page);
        if level <= 2 {
            let id = self.headings.len() + 1;
            let key = format!("_Toc{id:08}");
            p = p
                .add_bookmark_start(id, &key)
                .add_run(Run::new().add_text(text))
                .add_bookmark_end(id);
            self.headings.push((level, text.to_string(), key));
        } else {
            p = p.add_run(Run::new().add_text(text));
        }
        self.add(p)
    }

    /// One paragraph; its line breaks are kept.
    pub fn paragraph(self, text: &str) -> Self {
        self.add(lines(text, false, None))
    }

    /// A paragraph in bold.
    pub fn strong(self, text: &str) -> Self {
        self.add(lines(text, true, None))
    }

    /// A paragraph in small grey type.
    pub fn meta(self, text: &str) -> Self {
        self.add(Paragraph::new().add_run(Run::new().add_text(text).size(18).color("555555")))
    }

    /// Text as written in a plan file: blank lines part paragraphs, single breaks are spaces.
    pub fn paragraphs(mut self, text: &str) -> Self {
        for p in super::paragraphs_of(text) {
            self = self.paragraph(&p);
        }
        self
    }

    /// A list, bulleted or numbered; an item's line breaks are kept.
    pub fn list(mut self, items: &[String], numbered: bool) -> Self {
        for (i, item) in items.iter().enumerate() {
            let marker = if numbered {
                format!("{}.", i + 1)
            } else {
                "•".to_string()
            };
            let p = Paragraph::new()
                .indent(
                    Some(567),
                    Some(docx_rs::SpecialIndentType::Hanging(340)),
                    None,
                    None,
                )
                .add_run(Run::new().add_text(marker).add_tab());
            self = self.add(append_lines(p, item, false, None));
        }
        self
    }

    /// A table with a shaded header row; `widths` are shares of the text width.
    pub fn table(mut self, header: &[String], rows: &[Vec<String>], widths: &[usize]) -> Self {
        let total: usize = widths.iter().sum::<usize>().max(1);
        let width = |i: usize| TEXT_WIDTH * widths.get(i).copied().unwrap_or(1) / total;
        let head = TableRow::new(
            header
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    TableCell::new()
                        .width(width(i), WidthType::Dxa)
                        .shading(Shading::new().fill("D9E2F3"))
                        .add_paragraph(
                            Paragraph::new().add_run(Run::new().add_text(h).bold().size(20)),
                        )
                })
                .collect(),
        )
        .cant_split();
        let mut table_rows = vec![head];
        for row in rows {
            table_rows.push(
                TableRow::new(
                    row.iter()
                        .enumerate()
                        .map(|(i, cell)| {
                            TableCell::new()
                                .width(width(i), WidthType::Dxa)
                                .add_paragraph(cell_text(cell))
                        })
                        .collect(),
                )
                .cant_split(),
            );
        }
        let table = Table::new(table_rows).width(TEXT_WIDTH, WidthType::Dxa);
        self.blocks.push(Block::Table(Box::new(table)));
        // A table straight after another would join it: an empty paragraph keeps them apart.
        self.add(Paragraph::new())
    }

    /// A picture (PNG) of `width` × `height` pixels, scaled to the text width if wider.
    pub fn picture(self, png: Vec<u8>, width: u32, height: u32) -> Self {
        // 96 pixels to the inch, 914,400 EMU to the inch, 1440 twips to the inch.
        let most = (TEXT_WIDTH as u64 * 914_400 / 1440) as u32;
        let (w, h) = (width * 9525, height * 9525);
        let (w, h) = if w > most {
            (most, (u64::from(h) * u64::from(most) / u64::from(w)) as u32)
        } else {
            (w, h)
        };
        let pic = Pic::new_with_dimensions(png, width, height).size(w, h);
        self.add(Paragraph::new().add_run(Run::new().add_image(pic)))
    }

    /// A chart drawn as SVG, as a picture: rendered at twice its size, shown at its size.
    /// Left out (with its caption kept) if it cannot be drawn.
    pub fn chart(self, svg: &str, caption: &str) -> Self {
        let doc = match png_of(svg) {
            Some((png, width, height)) => self.picture(png, width / 2, height / 2),
            None => self,
        };
        doc.meta(caption)
    }

    /// The finished file.
    pub fn finish(self) -> Result<Vec<u8>, RenderError> {
        let failed = |e: &dyn std::fmt::Display| RenderError {
            template: "docx".to_string(),
            message: e.to_string(),
        };
        let mut docx = self.docx;
        for block in self.blocks {
            docx = match block {
                Block::Paragraph(p) => docx.add_paragraph(*p),
                Block::Table(t) => docx.add_table(*t),
                Block::Contents => contents(&self.headings)
                    .into_iter()
                    .fold(docx, Docx::add_paragraph),
            };
        }
        let mut stored = std::io::Cursor::new(Vec::new());
        docx.build().pack(&mut stored).map_err(|e| failed(&e))?;
        deflated(stored.into_inner()).map_err(|e| failed(&e))
    }
}

/// The fonts of this machine, loaded once, and the sans-serif family charts are drawn in.
fn fonts() -> &'static (std::sync::Arc<resvg::usvg::fontdb::Database>, String) {
    static FONTS: std::sync::OnceLock<(std::sync::Arc<resvg::usvg::fontdb::Database>, String)> =
        std::sync::OnceLock::new();
    FONTS.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_system_fonts();
        let family = [
            "Carlito",
            "Calibri",
            "Liberation Sans",
            "DejaVu Sans",
            "Arial",
        ]
        .into_iter()
        .find(|name| {
            db.faces()
                .any(|f| f.families.iter().any(|(family, _)| family == name))
        })
        .unwrap_or("sans-serif")
        .to_string();
        (std::sync::Arc::new(db), family)
    })
}

/// An SVG drawn as PNG at twice its size: the bytes and the size in pixels.
fn png_of(svg: &str) -> Option<(Vec<u8>, u32, u32)> {
    let (fontdb, family) = fonts();
    let options = resvg::usvg::Options {
        fontdb: fontdb.clone(),
        font_family: family.clone(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options).ok()?;
    let size = tree.size().to_int_size().scale_by(2.0)?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(2.0, 2.0),
        &mut pixmap.as_mut(),
    );
    Some((pixmap.encode_png().ok()?, size.width(), size.height()))
}

/// A table-of-contents style ("toc 1", "toc 2"), indented by `indent` twips.
fn toc_style(level: usize, indent: i32) -> Style {
    Style::new(format!("TOC{level}"), StyleType::Paragraph)
        .name(format!("toc {level}"))
        .based_on("Normal")
        .next("Normal")
        .indent(Some(indent), None, None, None)
}

/// The TOC field with an entry per heading: its text, a dot leader and its page (a PAGEREF
/// field), a link to the heading. Word recalculates the field on opening (it is marked dirty);
/// until then the page numbers are blank.
fn contents(headings: &[(usize, String, String)]) -> Vec<Paragraph> {
    let field = |kind| Run::new().add_field_char(kind, false);
    let mut out: Vec<Paragraph> = headings
        .iter()
        .enumerate()
        .map(|(i, (level, text, key))| {
            let mut p = Paragraph::new().style(&format!("TOC{level}")).add_tab(
                Tab::new()
                    .val(TabValueType::Right)
                    .leader(TabLeaderType::Dot)
                    .pos(TEXT_WIDTH),
            );
            if i == 0 {
                p = p
                    .add_run(Run::new().add_field_char(FieldCharType::Begin, true))
                    .add_run(Run::new().add_instr_text(InstrText::Unsupported(
                        r#" TOC \o "1-2" \h \z \u "#.to_string(),
                    )))
                    .add_run(field(FieldCharType::Separate));
            }
            p.add_hyperlink(
                Hyperlink::new(key, HyperlinkType::Anchor)
                    .add_run(Run::new().add_text(text))
                    .add_run(Run::new().add_tab())
                    .add_run(field(FieldCharType::Begin))
                    .add_run(
                        Run::new()
                            .add_instr_text(InstrText::PAGEREF(InstrPAGEREF::new(key).hyperlink())),
                    )
                    .add_run(field(FieldCharType::Separate))
                    .add_run(field(FieldCharType::End)),
            )
        })
        .collect();
    out.push(Paragraph::new().add_run(field(FieldCharType::End)));
    out
}

/// The package with its parts compressed: docx-rs stores them as they are, which makes a
/// 40-page plan half a megabyte.
fn deflated(stored: Vec<u8>) -> zip::result::ZipResult<Vec<u8>> {
    use std::io::{Read, Write};
    let mut from = zip::ZipArchive::new(std::io::Cursor::new(stored))?;
    let mut to = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut buffer = Vec::new();
    for i in 0..from.len() {
        let mut part = from.by_index(i)?;
        let name = part.name()?.to_string();
        if part.is_dir() {
            to.add_directory(name, options)?;
            continue;
        }
        buffer.clear();
        part.read_to_end(&mut buffer)?;
        to.start_file(name, options)?;
        to.write_all(&buffer)?;
    }
    Ok(to.finish()?.into_inner())
}

/// A paragraph of `text`, each line of it a line, in half-points `size` if given.
fn lines(text: &str, bold: bool, size: Option<usize>) -> Paragraph {
    append_lines(Paragraph::new(), text, bold, size)
}

/// `p` with the lines of `text` added.
fn append_lines(mut p: Paragraph, text: &str, bold: bool, size: Option<usize>) -> Paragraph {
    for (i, line) in text.lines().enumerate() {
        let mut run = Run::new();
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(line);
        if bold {
            run = run.bold();
        }
        if let Some(size) = size {
            run = run.size(size);
        }
        p = p.add_run(run);
    }
    p
}

fn cell_text(text: &str) -> Paragraph {
    lines(text, false, Some(20))
}
