//! Charts drawn on the server as SVG: no script, no library, readable on any phone. Each chart
//! is drawn beside a table of its numbers (the template's), which screen readers read; the SVG
//! itself is marked decorative (`aria-hidden`).
//!
//! Coordinates are laid out for each direction here (in Arabic, labels on the right and bars
//! growing to the left), so the drawing itself is `direction="ltr"`: otherwise an Arabic page's
//! `rtl` would flip every `text-anchor` and push the labels out of the picture.

use std::fmt::{self, Write};

/// One bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// What it counts (already translated).
    pub label: String,
    /// The value it is drawn to (counts, or amounts in whole units).
    pub value: i64,
    /// The value as shown (formatted for the language).
    pub shown: String,
}

/// A horizontal bar chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    /// Its bars, in order.
    pub bars: Vec<Bar>,
    /// Right to left (bars grow from the right in Arabic).
    pub rtl: bool,
}

/// Height of one bar's row, in SVG units.
const ROW: i64 = 28;
/// Width of the drawing.
const WIDTH: i64 = 320;
/// Room for the label.
const LABEL: i64 = 130;

fn escape(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

impl BarChart {
    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    fn draw(&self, out: &mut String) -> fmt::Result {
        let rows = i64::try_from(self.bars.len()).unwrap_or(i64::MAX / ROW);
        let height = rows.saturating_mul(ROW).max(ROW);
        let max = self.bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
        let room = WIDTH - LABEL - 60;
        write!(
            out,
            "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" \
             direction=\"ltr\" aria-hidden=\"true\" focusable=\"false\" \
             xmlns=\"http://www.w3.org/2000/svg\">"
        )?;
        for (i, bar) in self.bars.iter().enumerate() {
            let y = i64::try_from(i).unwrap_or(0).saturating_mul(ROW);
            // Widths as integers: i128 so that no value, however large, overflows.
            let width = i128::from(bar.value.max(0)) * i128::from(room) / i128::from(max);
            let width = i64::try_from(width).unwrap_or(room).max(1);
            let (label_x, anchor, bar_x, value_x, value_anchor) = if self.rtl {
                (
                    WIDTH - 4,
                    "end",
                    WIDTH - LABEL - width,
                    WIDTH - LABEL - width - 4,
                    "end",
                )
            } else {
                (4, "start", LABEL, LABEL + width + 4, "start")
            };
            write!(
                out,
                "<text x=\"{label_x}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>\
                 <rect x=\"{bar_x}\" y=\"{}\" width=\"{width}\" height=\"{}\" rx=\"3\"/>\
                 <text x=\"{value_x}\" y=\"{}\" text-anchor=\"{value_anchor}\">{}</text>",
                y + 19,
                escape(&truncate(&bar.label, 18)),
                y + 6,
                ROW - 10,
                y + 19,
                escape(&bar.shown),
            )?;
        }
        out.push_str("</svg>");
        Ok(())
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

impl fmt::Display for BarChart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.draw(&mut out)?;
        f.write_str(&out)
    }
}

// Labels and values are escaped in `draw`; the markup is ours.
impl askama::filters::HtmlSafe for BarChart {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_escaped_and_never_overflow() {
        let chart = BarChart {
            bars: vec![
                Bar {
                    label: "<script>".into(),
                    value: i64::MAX,
                    shown: "max".into(),
                },
                Bar {
                    label: "half".into(),
                    value: i64::MAX / 2,
                    shown: "1".into(),
                },
                Bar {
                    label: "negative".into(),
                    value: -5,
                    shown: "-5".into(),
                },
            ],
            rtl: true,
        };
        let svg = chart.to_string();
        assert!(svg.contains("&#60;script&#62;") || svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("width=\"130\""), "{svg}");
        assert!(svg.contains("width=\"64\""), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
    }
}
