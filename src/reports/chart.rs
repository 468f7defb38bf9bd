//! The report as a picture: average score by branch for the round (bars) above the trend of the
//! recent rounds (line), with Chinese labels.
//!
//! plotters draws text with ab_glyph from fonts registered in memory, so no system font library
//! is needed. The binary carries its own font ([`EMBEDDED_FONT`], Noto Sans CJK SC cut down to
//! GB 2312 and ASCII), so a server with no Chinese font still draws a readable chart. A name with
//! a character outside GB 2312 (a rare given name such as 堃) is the one case the embedded font
//! cannot draw: then a system font that has every character is used for that chart instead
//! ([`ChartFonts`]). Each font is read and leaked once per process: plotters keeps registered
//! fonts for the life of the program anyway.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use ab_glyph::{Font, FontRef};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};
use thiserror::Error;

use crate::reports::model::{BranchRow, RoundReport};
use crate::reports::text::points;
use crate::texts::reports as t;

/// Noto Sans CJK SC Regular, subset to GB 2312 and ASCII (SIL Open Font License 1.1; the
/// licence is `assets/fonts/OFL.txt`).
pub static EMBEDDED_FONT: &[u8] =
    include_bytes!("../../assets/fonts/NotoSansCJKsc-Regular-GB2312.otf");

#[derive(Debug, Error)]
pub enum ChartError {
    #[error("cannot read font file {path}: {source}")]
    FontUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a font file plotters can use")]
    InvalidFont(PathBuf),
    #[error("no font to draw with")]
    NoFont,
    #[error("drawing the chart failed: {0}")]
    Drawing(String),
    #[error("writing or reading the chart image failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Whether charts may fall back to fonts installed on the server (`BRANCHBOT_SYSTEM_FONTS`).
static SYSTEM_FONTS: AtomicBool = AtomicBool::new(true);

/// Turns the system-font fallback on or off for the whole process (set once at start-up).
pub fn use_system_fonts(on: bool) {
    SYSTEM_FONTS.store(on, Ordering::Relaxed);
}

/// One place a font can come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FontSource {
    /// [`EMBEDDED_FONT`].
    Embedded,
    /// Whatever [`find_cjk_font`] finds on this machine, looked up only when needed.
    System,
    /// A font file.
    File(PathBuf),
}

/// The fonts a chart may use, best first: the first that has every character of the chart's
/// text draws it; if none has them all, the one missing the fewest does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFonts {
    pub sources: Vec<FontSource>,
}

impl ChartFonts {
    /// The embedded font, then (unless turned off with [`use_system_fonts`]) a system font.
    pub fn configured() -> Self {
        if SYSTEM_FONTS.load(Ordering::Relaxed) {
            ChartFonts {
                sources: vec![FontSource::Embedded, FontSource::System],
            }
        } else {
            Self::embedded_only()
        }
    }

    pub fn embedded_only() -> Self {
        ChartFonts {
            sources: vec![FontSource::Embedded],
        }
    }

    /// Only the font file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        ChartFonts {
            sources: vec![FontSource::File(path.into())],
        }
    }
}

/// Where distributions put fonts with Chinese glyphs, best first.
const KNOWN_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
];

/// Directories searched when no known file exists.
const FONT_DIRS: &[&str] = &["/usr/share/fonts", "/usr/local/share/fonts"];

/// File-name fragments (lower case) of fonts known to cover Chinese.
const CJK_NAME_HINTS: &[&str] = &[
    "wqy",
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "sourcehanserif",
    "droidsansfallback",
    "uming",
    "ukai",
];

/// A font with Chinese glyphs installed on this machine, if any.
pub fn find_cjk_font() -> Option<PathBuf> {
    if let Some(path) = KNOWN_FONTS.iter().map(PathBuf::from).find(|p| p.is_file()) {
        return Some(path);
    }
    let mut dirs: Vec<PathBuf> = FONT_DIRS.iter().map(PathBuf::from).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".local/share/fonts"));
        dirs.push(Path::new(&home).join(".fonts"));
    }
    dirs.iter().find_map(|dir| search_dir(dir, 4))
}

fn search_dir(dir: &Path, depth: u32) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let is_cjk_font = |path: &Path| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let font_file = [".ttf", ".ttc", ".otf", ".otc"]
            .iter()
            .any(|ext| name.ends_with(ext));
        font_file && CJK_NAME_HINTS.iter().any(|hint| name.contains(hint))
    };
    if let Some(found) = entries.iter().find(|p| p.is_file() && is_cjk_font(p)) {
        return Some(found.clone());
    }
    if depth == 0 {
        return None;
    }
    entries
        .iter()
        .filter(|p| p.is_dir())
        .find_map(|p| search_dir(p, depth - 1))
}

/// A font registered with plotters: its family name and ab_glyph's view of it, to ask which
/// characters it has.
#[derive(Clone)]
struct Loaded {
    family: &'static str,
    font: FontRef<'static>,
}

/// Fonts registered so far, by source.
fn registry() -> &'static Mutex<HashMap<FontSource, Loaded>> {
    static REGISTRY: OnceLock<Mutex<HashMap<FontSource, Loaded>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Registers the font from `source` with plotters (once per source).
fn load_font(source: &FontSource) -> Result<Loaded, ChartError> {
    let mut fonts = registry()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(loaded) = fonts.get(source) {
        return Ok(loaded.clone());
    }
    let (bytes, name): (&'static [u8], PathBuf) = match source {
        FontSource::Embedded => (EMBEDDED_FONT, PathBuf::from("<embedded font>")),
        FontSource::System => {
            let path = find_cjk_font().ok_or(ChartError::NoFont)?;
            (read_font(&path)?, path)
        }
        FontSource::File(path) => (read_font(path)?, path.clone()),
    };
    let font = FontRef::try_from_slice(bytes).map_err(|_| ChartError::InvalidFont(name.clone()))?;
    let family: &'static str = Box::leak(format!("branchbot-cjk-{}", fonts.len()).into_boxed_str());
    register_font(family, FontStyle::Normal, bytes)
        .map_err(|_| ChartError::InvalidFont(name.clone()))?;
    // Anything plotters draws without an explicit family (e.g. a default label style) must
    // still find Chinese glyphs: the embedded font serves as sans-serif.
    if fonts.is_empty() {
        register_font("sans-serif", FontStyle::Normal, EMBEDDED_FONT)
            .map_err(|_| ChartError::InvalidFont(name))?;
    }
    let loaded = Loaded { family, font };
    fonts.insert(source.clone(), loaded.clone());
    Ok(loaded)
}

/// A font file's bytes, the wanted face of a collection first, kept for the process.
fn read_font(path: &Path) -> Result<&'static [u8], ChartError> {
    let bytes = std::fs::read(path).map_err(|source| ChartError::FontUnreadable {
        path: path.to_owned(),
        source,
    })?;
    let bytes = select_face(bytes, face_index(path));
    Ok(Box::leak(bytes.into_boxed_slice()))
}

/// How many characters of `text` the font has no glyph for (spaces and controls need none).
fn missing_glyphs(font: &FontRef<'_>, text: &str) -> usize {
    text.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .filter(|&c| font.glyph_id(c).0 == 0)
        .count()
}

/// The family (and its source) to draw `text` with: the first source that has every character, else the one
/// missing the fewest. A source that cannot be loaded is skipped (and logged) unless it is the
/// only one.
fn pick_font<'a>(
    fonts: &'a ChartFonts,
    text: &str,
) -> Result<(&'static str, &'a FontSource), ChartError> {
    let mut best: Option<(&'static str, &'a FontSource, usize)> = None;
    let mut first_error = None;
    for source in &fonts.sources {
        let loaded = match load_font(source) {
            Ok(loaded) => loaded,
            Err(err) => {
                if !matches!(err, ChartError::NoFont) {
                    tracing::warn!(error = %err, "a chart font could not be loaded");
                }
                first_error.get_or_insert(err);
                continue;
            }
        };
        let missing = missing_glyphs(&loaded.font, text);
        if missing == 0 {
            return Ok((loaded.family, source));
        }
        if best.is_none_or(|(_, _, fewest)| missing < fewest) {
            best = Some((loaded.family, source, missing));
        }
    }
    match best {
        Some((family, source, missing)) => {
            tracing::warn!(
                missing,
                "no chart font has every character; some are drawn as boxes"
            );
            Ok((family, source))
        }
        None => Err(first_error.unwrap_or(ChartError::NoFont)),
    }
}

/// Every text a chart of `report` shows that is not a fixed label (those are all GB 2312).
fn chart_text(report: &RoundReport) -> String {
    let mut text: String = report.branches.iter().map(|b| b.name.as_str()).collect();
    text.extend(report.trend.iter().map(|p| p.label.as_str()));
    text
}

/// Which face of a font collection to use. Noto/Source Han CJK collections hold the Japanese,
/// Korean, Simplified and Traditional Chinese faces in that order; the Simplified Chinese face
/// (index 2) draws characters the way mainland readers expect.
fn face_index(path: &Path) -> u32 {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let is_collection = name.ends_with(".ttc") || name.ends_with(".otc");
    let pan_cjk = ["notosanscjk", "notoserifcjk", "sourcehan"]
        .iter()
        .any(|hint| name.contains(hint));
    if is_collection && pan_cjk {
        2
    } else {
        0
    }
}

/// plotters (through ab_glyph) always reads face 0 of a collection. Swapping the first entry of
/// the collection's offset table with the wanted one makes that face come first; the offsets
/// are absolute, so nothing else moves.
fn select_face(mut bytes: Vec<u8>, index: u32) -> Vec<u8> {
    if index == 0 || !bytes.starts_with(b"ttcf") || bytes.len() < 12 {
        return bytes;
    }
    let count = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let wanted = 12 + 4 * index as usize;
    if index >= count || bytes.len() < wanted + 4 {
        return bytes;
    }
    for i in 0..4 {
        bytes.swap(12 + i, wanted + i);
    }
    bytes
}

const WIDTH: u32 = 1200;
const TREND_HEIGHT: u32 = 440;
const BAR_ROW_HEIGHT: u32 = 34;
/// More bars than this would make a picture Telegram shrinks past reading; the lowest
/// averages are the ones that need attention, so those are kept.
const MAX_BARS: usize = 40;
const MAX_LABEL_CHARS: usize = 14;

const BAR_PASS: RGBColor = RGBColor(0x3B, 0x6E, 0xA8);
const BAR_FAIL: RGBColor = RGBColor(0xC0, 0x39, 0x2B);
const PASS_LINE: RGBColor = RGBColor(0xE6, 0x7E, 0x22);
const MUTED: RGBColor = RGBColor(0x80, 0x80, 0x80);
const TREND_LINE: RGBColor = RGBColor(0xB0, 0x1E, 0x23);

/// The chart as PNG bytes, drawn with the best of `fonts` for its text.
pub fn render_chart(report: &RoundReport, fonts: &ChartFonts) -> Result<Vec<u8>, ChartError> {
    let (pixels, width, height) = render_rgb(report, fonts)?;
    let encode_error = |e: png::EncodingError| ChartError::Drawing(e.to_string());
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(&pixels).map_err(encode_error)?;
    writer.finish().map_err(encode_error)?;
    Ok(bytes)
}

/// The chart as raw RGB pixels with its width and height, for checks without a PNG decoder.
pub fn render_rgb(
    report: &RoundReport,
    fonts: &ChartFonts,
) -> Result<(Vec<u8>, u32, u32), ChartError> {
    let (family, source) = pick_font(fonts, &chart_text(report))?;
    tracing::info!(font = ?source, round = report.round_id, "drawing the report chart");
    let (width, height) = chart_size(report);
    let mut buffer = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        draw(&root, report, family)?;
        root.present().map_err(drawing_error)?;
    }
    Ok((buffer, width, height))
}

fn chart_size(report: &RoundReport) -> (u32, u32) {
    let bars = report.branches.len().clamp(1, MAX_BARS) as u32;
    (WIDTH, 120 + bars * BAR_ROW_HEIGHT + TREND_HEIGHT)
}

fn drawing_error<E: std::error::Error + Send + Sync>(
    error: plotters::drawing::DrawingAreaErrorKind<E>,
) -> ChartError {
    ChartError::Drawing(error.to_string())
}

fn draw<DB>(
    root: &DrawingArea<DB, Shift>,
    report: &RoundReport,
    family: &'static str,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing_error)?;
    let (_, height) = root.dim_in_pixel();
    let (top, bottom) = root.split_vertically(height - TREND_HEIGHT);
    draw_branches(&top, report, family)?;
    draw_trend(&bottom, report, family)?;
    Ok(())
}

fn truncate_label(name: &str) -> String {
    if name.chars().count() > MAX_LABEL_CHARS {
        let mut short: String = name.chars().take(MAX_LABEL_CHARS - 1).collect();
        short.push('…');
        short
    } else {
        name.to_owned()
    }
}

fn draw_branches<DB>(
    area: &DrawingArea<DB, Shift>,
    report: &RoundReport,
    family: &'static str,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let mut rows: Vec<&BranchRow> = report.branches.iter().collect();
    // Lowest first, keep the ones needing attention; then draw the best at the top.
    rows.sort_by(|a, b| {
        let key = |r: &BranchRow| r.average.unwrap_or(-1.0);
        key(a).total_cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
    });
    rows.truncate(MAX_BARS);
    rows.reverse();
    let n = rows.len();
    let labels: Vec<String> = rows.iter().map(|r| truncate_label(&r.name)).collect();
    let label_width = labels
        .iter()
        .map(|l| l.chars().count() as u32)
        .max()
        .unwrap_or(4)
        .max(4)
        * 17
        + 20;

    let mut chart = ChartBuilder::on(area)
        .caption(
            t::chart_branches_title(report.round_id),
            (family, 26).into_font(),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0f64..100f64, -0.5f64..(n.max(1) as f64 - 0.5))
        .map_err(drawing_error)?;
    // Row i is drawn at y = n - 1 - i so the first row (the best) is at the top.
    let y_of = |i: usize| (n - 1 - i) as f64;
    let label_for = |y: &f64| {
        let rounded = y.round();
        if (y - rounded).abs() > 1e-6 || rounded < 0.0 {
            return String::new();
        }
        let i = n.checked_sub(1 + rounded as usize);
        i.and_then(|i| labels.get(i)).cloned().unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n.max(1))
        .y_label_formatter(&label_for)
        .x_labels(11)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .light_line_style(WHITE)
        .x_desc(t::CHART_AXIS_AVERAGE)
        .label_style((family, 16).into_font())
        .axis_desc_style((family, 16).into_font())
        .draw()
        .map_err(drawing_error)?;

    if n == 0 {
        chart
            .draw_series(std::iter::once(Text::new(
                t::CHART_NO_DATA,
                (50.0, 0.0),
                (family, 20)
                    .into_font()
                    .color(&MUTED)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(drawing_error)?;
        return Ok(());
    }

    let pass_mark = f64::from(report.pass_mark);
    chart
        .draw_series(rows.iter().enumerate().filter_map(|(i, row)| {
            let average = row.average?;
            let color = if average >= pass_mark {
                BAR_PASS
            } else {
                BAR_FAIL
            };
            let y = y_of(i);
            Some(Rectangle::new(
                [(0.0, y - 0.35), (average.clamp(0.0, 100.0), y + 0.35)],
                color.filled(),
            ))
        }))
        .map_err(drawing_error)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, row)| {
            // The figure names participation too: 实参加 of 应参加, by roster where there is one.
            let (text, x, color) = match row.average {
                Some(average) => (
                    t::chart_bar_value(
                        &points(average),
                        row.participants,
                        row.members,
                        row.by_roster,
                    ),
                    average.clamp(0.0, 70.0) + 0.8,
                    &BLACK,
                ),
                None => (t::chart_bar_nobody(row.members, row.by_roster), 0.8, &MUTED),
            };
            Text::new(
                text,
                (x, y_of(i)),
                (family, 15)
                    .into_font()
                    .color(color)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )
        }))
        .map_err(drawing_error)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(pass_mark, -0.5), (pass_mark, n as f64 - 0.5)],
            PASS_LINE.stroke_width(2),
        )))
        .map_err(drawing_error)?
        .label(t::chart_pass_mark(report.pass_mark))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PASS_LINE.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(MUTED)
        .label_font((family, 15).into_font())
        .draw()
        .map_err(drawing_error)?;
    Ok(())
}

fn draw_trend<DB>(
    area: &DrawingArea<DB, Shift>,
    report: &RoundReport,
    family: &'static str,
) -> Result<(), ChartError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let points_: Vec<(f64, Option<f64>)> = report
        .trend
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, p.average))
        .collect();
    let m = points_.len();
    let labels: Vec<&str> = report.trend.iter().map(|p| p.label.as_str()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(t::CHART_TREND_TITLE, (family, 26).into_font())
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5f64..(m.max(1) as f64 - 0.5), 0f64..100f64)
        .map_err(drawing_error)?;
    let label_for = |x: &f64| {
        let rounded = x.round();
        if (x - rounded).abs() > 1e-6 || rounded < 0.0 {
            return String::new();
        }
        labels
            .get(rounded as usize)
            .map(|l| truncate_label(l))
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .x_labels(m.clamp(1, 12))
        .x_label_formatter(&label_for)
        .disable_x_mesh()
        .y_labels(11)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .light_line_style(WHITE)
        .y_desc(t::CHART_AXIS_AVERAGE)
        .label_style((family, 16).into_font())
        .axis_desc_style((family, 16).into_font())
        .draw()
        .map_err(drawing_error)?;

    if points_.iter().all(|(_, average)| average.is_none()) {
        chart
            .draw_series(std::iter::once(Text::new(
                t::CHART_NO_DATA,
                ((m.max(1) as f64 - 1.0) / 2.0, 50.0),
                (family, 20)
                    .into_font()
                    .color(&MUTED)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(drawing_error)?;
        return Ok(());
    }

    let pass_mark = f64::from(report.pass_mark);
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, pass_mark), (m as f64 - 0.5, pass_mark)],
            PASS_LINE.stroke_width(2),
        )))
        .map_err(drawing_error)?
        .label(t::chart_pass_mark(report.pass_mark))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PASS_LINE.stroke_width(2)));
    // A round nobody took part in breaks the line instead of dropping it to zero.
    for run in points_.split(|(_, average)| average.is_none()) {
        let series: Vec<(f64, f64)> = run
            .iter()
            .filter_map(|&(x, average)| average.map(|a| (x, a)))
            .collect();
        if series.len() > 1 {
            chart
                .draw_series(LineSeries::new(series, TREND_LINE.stroke_width(3)))
                .map_err(drawing_error)?;
        }
    }
    chart
        .draw_series(points_.iter().filter_map(|&(x, average)| {
            average.map(|a| Circle::new((x, a), 5, TREND_LINE.filled()))
        }))
        .map_err(drawing_error)?;
    chart
        .draw_series(points_.iter().filter_map(|&(x, average)| {
            average.map(|a| {
                Text::new(
                    points(a),
                    (x, (a + 4.0).min(98.0)),
                    (family, 15)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
            })
        }))
        .map_err(drawing_error)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(MUTED)
        .label_font((family, 15).into_font())
        .draw()
        .map_err(drawing_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::model::tests::sample_report;
    use crate::reports::model::TrendPoint;

    /// The embedded font alone: every test here passes on a machine with no font installed.
    fn font() -> ChartFonts {
        ChartFonts::embedded_only()
    }

    /// A tiny subset of Noto Sans CJK SC holding only 堃 and 喆, which GB 2312 lacks: a stand-in
    /// for a system font, so the fallback is tested the same way on every machine.
    fn rare_font() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fonts/rare-chars-subset.otf")
    }

    fn one_branch(name: &str) -> RoundReport {
        let mut report = sample_report();
        report.round_id = 1;
        report.trend.clear();
        report.branches.truncate(1);
        report.branches[0].name = name.to_owned();
        report
    }

    #[test]
    fn the_embedded_font_covers_gb2312_text_and_ascii() {
        let font = FontRef::try_from_slice(EMBEDDED_FONT).expect("the embedded font parses");
        let ascii: String = (0x21u8..0x7f).map(char::from).collect();
        let fixed = [
            t::CHART_AXIS_AVERAGE.to_owned(),
            t::CHART_NO_DATA.to_owned(),
            t::CHART_TREND_TITLE.to_owned(),
            t::chart_branches_title(12),
            t::chart_bar_value("71.7", 3, 4, false),
            t::chart_bar_nobody(4, true),
        ];
        for text in fixed
            .iter()
            .map(String::as_str)
            .chain([ascii.as_str(), "城东社区第一党支部机关党委换届测试平均分…"])
        {
            assert_eq!(missing_glyphs(&font, text), 0, "{text}");
        }
        // 堃 is outside GB 2312, so the embedded font has no glyph for it.
        assert_eq!(missing_glyphs(&font, "王堃"), 1);
        assert!(
            EMBEDDED_FONT.len() < 3 * 1024 * 1024,
            "keep the binary small"
        );
    }

    /// A rare character the embedded font lacks is drawn with a fallback font that has it; with
    /// no fallback the chart is still drawn (the character as a box), never an error.
    #[test]
    fn a_rare_character_falls_back_to_another_font() {
        let with_fallback = ChartFonts {
            sources: vec![FontSource::Embedded, FontSource::File(rare_font())],
        };
        let embedded = pick_font(&ChartFonts::embedded_only(), "城东").unwrap().0;
        assert_eq!(pick_font(&with_fallback, "城东").unwrap().0, embedded);
        let fallback = pick_font(&with_fallback, "堃").unwrap().0;
        assert_ne!(fallback, embedded);

        let report = one_branch("堃");
        let (boxed, _, _) = render_rgb(&report, &font()).expect("chart without the glyph");
        let (drawn, _, _) = render_rgb(&report, &with_fallback).expect("chart with the glyph");
        assert_ne!(boxed, drawn, "the fallback font drew the rare character");
        // The fallback lacks everything but its two characters: common names stay embedded.
        let (common, _, _) = render_rgb(&one_branch("城东"), &with_fallback).expect("chart");
        let (common_embedded, _, _) = render_rgb(&one_branch("城东"), &font()).expect("chart");
        assert_eq!(common, common_embedded);
    }

    /// With the system-font lookup switched off, only the embedded font is used.
    #[test]
    fn system_fonts_can_be_switched_off() {
        use_system_fonts(false);
        assert_eq!(ChartFonts::configured(), ChartFonts::embedded_only());
        use_system_fonts(true);
        assert_eq!(
            ChartFonts::configured().sources,
            vec![FontSource::Embedded, FontSource::System]
        );
    }

    #[test]
    fn png_has_signature_and_size() {
        let report = sample_report();
        let png = render_chart(&report, &font()).expect("chart");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR follows the signature: length, "IHDR", width, height.
        assert_eq!(&png[12..16], b"IHDR");
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
        assert_eq!((width, height), chart_size(&report));
        if let Ok(path) = std::env::var("BRANCHBOT_CHART_SAMPLE") {
            std::fs::write(path, &png).expect("write sample");
        }
    }

    #[test]
    fn drawing_is_not_blank() {
        let (pixels, width, height) = render_rgb(&sample_report(), &font()).expect("chart");
        assert_eq!(pixels.len(), (width * height * 3) as usize);
        let non_white = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(non_white > 10_000, "{non_white} drawn pixels");
        // Bars in both colours are there: 城东 passes (71.7), 第一中学 fails (50.0).
        let has = |c: RGBColor| pixels.chunks(3).any(|p| p == [c.0, c.1, c.2]);
        assert!(has(BAR_PASS));
        assert!(has(BAR_FAIL));
    }

    /// If the font lacked Chinese glyphs every character would be the same "missing" box, so
    /// two different Chinese captions would render identically.
    #[test]
    fn chinese_glyphs_are_real() {
        let first = one_branch("城东社区");
        let second = one_branch("党支部书");
        let (a, _, _) = render_rgb(&first, &font()).expect("chart");
        let (b, _, _) = render_rgb(&second, &font()).expect("chart");
        assert_ne!(a, b);
    }

    #[test]
    fn empty_data_and_many_branches_render() {
        let mut report = sample_report();
        report.branches.clear();
        report.trend = vec![TrendPoint {
            round_id: 1,
            label: "第1期".to_owned(),
            participants: 0,
            average: None,
        }];
        render_chart(&report, &font()).expect("empty chart");
        let mut many = sample_report();
        many.branches = (0..120)
            .map(|i| {
                BranchRow::from_scores(
                    i,
                    format!("第{i}个名字特别特别特别长的村党支部"),
                    "农村",
                    5,
                    &[(i as u32 * 7) % 101],
                    60,
                )
            })
            .collect();
        let png = render_chart(&many, &font()).expect("big chart");
        assert!(png.len() > 1000);
    }

    #[test]
    fn a_missing_font_is_an_error_not_a_panic() {
        let result = render_chart(&sample_report(), &ChartFonts::file("/nonexistent/font.ttf"));
        assert!(matches!(result, Err(ChartError::FontUnreadable { .. })));
        let not_a_font = std::env::temp_dir().join("branchbot-not-a-font.ttf");
        std::fs::write(&not_a_font, b"hello").expect("write");
        let result = render_chart(&sample_report(), &ChartFonts::file(&not_a_font));
        assert!(matches!(result, Err(ChartError::InvalidFont(_))));
    }

    #[test]
    fn collection_face_is_moved_first() {
        let mut bytes = b"ttcf\x00\x01\x00\x00\x00\x00\x00\x03".to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
        let swapped = select_face(bytes.clone(), 2);
        assert_eq!(&swapped[12..16], &[0, 0, 0, 3]);
        assert_eq!(&swapped[20..24], &[0, 0, 0, 1]);
        assert_eq!(select_face(bytes.clone(), 5), bytes);
        assert_eq!(face_index(Path::new("/x/NotoSansCJK-Regular.ttc")), 2);
        assert_eq!(face_index(Path::new("/x/wqy-microhei.ttc")), 0);
    }
}
