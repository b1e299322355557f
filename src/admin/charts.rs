//! Inline SVG charts drawn on the server (no JavaScript): stacked bars per day and ranked
//! horizontal bars. Every label is escaped.

use handlebars::html_escape;

const COLORS: [&str; 6] = ["#2a6fb0", "#b3261e", "#c77c02", "#6b4fbb", "#1f7a3a", "#6b7785"];

/// Stacked bars, one per day; `series` names the stacks.
pub(super) fn stacked(days: &[(String, Vec<f64>)], series: &[&str]) -> String {
    let (w, h, pad) = (720.0, 200.0, 28.0);
    let max = days
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0);
    let n = days.len().max(1) as f64;
    let bw = (w - pad) / n;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        h + 40.0
    );
    svg.push_str(&format!(
        "<text x=\"0\" y=\"12\" class=\"axis\">{}</text><line x1=\"{pad}\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" class=\"base\"/>",
        max as i64
    ));
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
        if i % 7 == 0 || i + 1 == days.len() {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" class=\"axis\">{}</text>",
                x,
                h + 14.0,
                html_escape(day.get(5..).unwrap_or(day))
            ));
        }
    }
    for (j, name) in series.iter().enumerate() {
        let x = pad + j as f64 * 120.0;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>",
            h + 22.0,
            COLORS[j % COLORS.len()],
            x + 14.0,
            h + 31.0,
            html_escape(name)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars with labels.
pub(super) fn ranked(items: &[(String, f64)]) -> String {
    let (w, row) = (720.0, 22.0);
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        (items.len().max(1) as f64) * row
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = i as f64 * row;
        let bw = v / max * (w - 260.0);
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" class=\"axis\">{}</text><rect x=\"220\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\">{}</text>",
            y + 15.0,
            html_escape(&label.chars().take(34).collect::<String>()),
            y + 4.0,
            row - 8.0,
            COLORS[0],
            226.0 + bw,
            y + 15.0,
            *v as i64
        ));
    }
    svg.push_str("</svg>");
    svg
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
    }
}
