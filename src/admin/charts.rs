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

/// Horizontal bars, each with its label on a line of its own above it (long names fit).
pub(super) fn ranked(items: &[(String, f64)]) -> String {
    let (w, row) = (720.0, 36.0);
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        (items.len().max(1) as f64) * row
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = i as f64 * row;
        let value = (*v as i64).to_string();
        let bw = v / max * (w - 8.0 - text_width(&value));
        let shown: String = if label.chars().count() > LABEL_CHARS {
            label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            label.clone()
        };
        svg.push_str(&format!(
            "<g><title>{}</title><text x=\"0\" y=\"{:.1}\" class=\"axis\">{}</text><rect x=\"0\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\">{value}</text></g>",
            html_escape(label),
            y + 12.0,
            html_escape(&shown),
            y + 17.0,
            COLORS[0],
            bw + 6.0,
            y + 27.0,
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
        let long = "python · ModuleNotFoundError: No module named 'a_really_long_package_name'";
        assert!(
            ranked(&[(long.into(), 1.0)]).contains(&format!(">{}</text>", html_escape(long))),
            "a long name is shown whole"
        );
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
