//! Inline SVG charts drawn on the server (no JavaScript): stacked bars per day and ranked
//! horizontal bars. Every label is escaped.

use handlebars::html_escape;

const COLORS: [&str; 6] = ["#2a6fb0", "#b3261e", "#c77c02", "#6b4fbb", "#1f7a3a", "#6b7785"];

/// Width of `text` at the charts' 11px axis font, a little generous (no font metrics on the
/// server): what keeps labels from running into each other.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.6 + 2.0
}

/// Stacked bars, one per day; `series` names the stacks (a legend that wraps onto more lines
/// when the names need it). Day labels go every week and on the last day, each only where it
/// clears the one before.
pub(super) fn stacked(days: &[(String, Vec<f64>)], series: &[&str]) -> String {
    let (w, h, pad) = (720.0, 200.0, 28.0);
    let max = days
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0);
    let n = days.len().max(1) as f64;
    let bw = (w - pad) / n;
    // The legend's places first: its height sizes the picture.
    let mut legend = Vec::new();
    let (mut lx, mut ly) = (pad, h + 36.0);
    for name in series {
        let need = 14.0 + text_width(name) + 16.0;
        if lx + need > w && lx > pad {
            lx = pad;
            ly += 16.0;
        }
        legend.push((lx, ly));
        lx += need;
    }
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        ly + 8.0
    );
    svg.push_str(&format!(
        "<text x=\"0\" y=\"12\" class=\"axis\">{}</text><line x1=\"{pad}\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" class=\"base\"/>",
        max as i64
    ));
    let mut label_end = f64::MIN;
    for (i, (day, values)) in days.iter().enumerate() {
        let x = pad + i as f64 * bw;
        let mut y = h;
        for (j, v) in values.iter().enumerate() {
            let bh = v / max * (h - 16.0);
            if bh > 0.0 {
                y -= bh;
                svg.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                    x + 1.0,
                    (bw - 2.0).max(1.0),
                    COLORS[j % COLORS.len()],
                    html_escape(day),
                    html_escape(series.get(j).copied().unwrap_or("")),
                    *v as i64
                ));
            }
        }
        let label = day.get(5..).unwrap_or(day);
        let wanted = i % 7 == 0 || i + 1 == days.len();
        // The last day's label moves left to stay inside; any label that would touch the
        // previous one is left out.
        let lx = x.min(w - text_width(label));
        if wanted && lx >= label_end + 6.0 {
            svg.push_str(&format!(
                "<text x=\"{lx:.1}\" y=\"{}\" class=\"axis\">{}</text>",
                h + 14.0,
                html_escape(label)
            ));
            label_end = lx + text_width(label);
        }
    }
    for (j, (name, (x, y))) in series.iter().zip(&legend).enumerate() {
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{y}\" class=\"axis\">{}</text>",
            y - 9.0,
            COLORS[j % COLORS.len()],
            x + 14.0,
            html_escape(name)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Longest label a ranked bar shows in full; a longer one is cut with "…" and kept whole in
/// its tooltip.
const LABEL_CHARS: usize = 100;

/// Width of a ranked chart's picture: narrow, so that on a phone (where it is drawn at its
/// full width, never scrolled) its 11px labels stay readable; on a desktop it is drawn at most
/// 560 px wide (the stylesheet's `svg.chart.ranked`).
const RANKED_W: f64 = 400.0;

/// `label` in lines that fit the ranked chart's width, each broken after a space, `_` or `.`
/// where there is one in the line's second half, else at the width. The lines joined are
/// `label` again.
fn wrap(label: &str) -> Vec<String> {
    let per_line = ((RANKED_W - 4.0) / 6.6).floor() as usize;
    let chars: Vec<char> = label.chars().collect();
    let mut lines = Vec::new();
    let mut at = 0;
    while chars.len() - at > per_line {
        let window = &chars[at..at + per_line];
        let cut = window
            .iter()
            .rposition(|c| matches!(c, ' ' | '_' | '.' | '/' | '-'))
            .filter(|i| *i >= per_line / 2)
            .map(|i| i + 1)
            .unwrap_or(per_line);
        lines.push(chars[at..at + cut].iter().collect());
        at += cut;
    }
    lines.push(chars[at..].iter().collect());
    lines
}

/// Horizontal bars, each with its label above it, on as many lines as the label needs (long
/// names are shown whole, never cut by the chart's edge).
pub(super) fn ranked(items: &[(String, f64)]) -> String {
    let (w, line, bar_row) = (RANKED_W, 14.0, 22.0);
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let mut body = String::new();
    let mut y = 0.0;
    for (label, v) in items {
        let value = (*v as i64).to_string();
        let bw = v / max * (w - 8.0 - text_width(&value));
        let shown: String = if label.chars().count() > LABEL_CHARS {
            label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            label.clone()
        };
        let lines = wrap(&shown);
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "<tspan x=\"0\" dy=\"{}\">{}</tspan>",
                    if i == 0 { 0.0 } else { line },
                    html_escape(l)
                )
            })
            .collect();
        let bar_y = y + lines.len() as f64 * line + 5.0;
        body.push_str(&format!(
            "<g><title>{}</title><text x=\"0\" y=\"{:.1}\" class=\"axis\">{text}</text><rect x=\"0\" y=\"{bar_y:.1}\" width=\"{bw:.1}\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\">{value}</text></g>",
            html_escape(label),
            y + 12.0,
            COLORS[0],
            bw + 6.0,
            bar_y + 10.0,
        ));
        y = bar_y + bar_row - 5.0;
    }
    format!(
        "<svg viewBox=\"0 0 {w} {}\" class=\"chart ranked\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">{body}</svg>",
        y.max(line * 2.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_escaped_labels() {
        let svg = stacked(&[("2026-11-01".into(), vec![3.0, 1.0])], &["ok", "<b>"]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        let svg = ranked(&[("python · <Error>".into(), 5.0)]);
        assert!(svg.contains("&lt;Error&gt;"));
        let long = "python · ModuleNotFoundError: No module named 'a_really_long_package_name_and_then_some_more'";
        let svg = ranked(&[(long.into(), 1.0)]);
        let shown: String = svg
            .split("<tspan")
            .skip(1)
            .map(|t| t.split_once('>').unwrap().1.split("</tspan>").next().unwrap())
            .collect();
        assert_eq!(shown, html_escape(long), "a long name is shown whole: {svg}");
        assert!(svg.matches("<tspan").count() >= 2, "on more than one line: {svg}");
    }

    #[test]
    fn a_label_wraps_within_the_width() {
        let label = "python · ModuleNotFoundError_with_a_very_long_name_that_used_to_be_cut_off_in_the_chart";
        let lines = wrap(label);
        assert_eq!(lines.concat(), label);
        assert!(lines.len() >= 2);
        for l in &lines {
            assert!(text_width(l) <= RANKED_W, "{l:?}");
        }
        assert_eq!(wrap("short"), vec!["short".to_string()]);
    }

    #[test]
    fn day_labels_never_touch() {
        // 29 days: the weekly label on day 28 and the last day's sit side by side.
        let days: Vec<(String, Vec<f64>)> = (1..=29).map(|d| (format!("2026-11-{d:02}"), vec![1.0])).collect();
        let svg = stacked(&days, &["ok"]);
        let xs: Vec<f64> = svg
            .match_indices("<text x=\"")
            .filter(|(i, _)| svg[*i..].split('>').next().is_some_and(|t| t.contains("y=\"214\"")))
            .filter_map(|(i, _)| svg[i + 9..].split('"').next()?.parse().ok())
            .collect();
        assert!(xs.len() >= 4, "{svg}");
        for pair in xs.windows(2) {
            assert!(pair[1] - pair[0] >= text_width("11-29"), "{xs:?}");
        }
    }
}
