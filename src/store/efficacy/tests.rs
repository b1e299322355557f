use super::*;

#[test]
fn wilson_matches_known_values() {
    // Reference values (Wilson 1927; e.g. Newcombe 1998, table I): 81/263 → 0.2553–0.3662.
    let (lo, hi) = wilson(81, 263);
    assert!((lo - 0.2553).abs() < 1e-3 && (hi - 0.3662).abs() < 1e-3, "{lo} {hi}");
    // 15/148 → 0.0624–0.1605.
    let (lo, hi) = wilson(15, 148);
    assert!((lo - 0.0624).abs() < 1e-3 && (hi - 0.1605).abs() < 1e-3, "{lo} {hi}");
    // 0/20 → 0–0.1611; 1/1 → 0.2065–1.
    let (lo, hi) = wilson(0, 20);
    assert!(lo.abs() < 1e-9 && (hi - 0.1611).abs() < 1e-3, "{lo} {hi}");
    let (lo, hi) = wilson(1, 1);
    assert!((lo - 0.2065).abs() < 1e-3 && (hi - 1.0).abs() < 1e-9, "{lo} {hi}");
    assert_eq!(wilson(0, 0), (0.0, 1.0));
}

#[test]
fn similarity_tells_an_edit_from_another_program() {
    assert_eq!(similarity("print(x)", "print(x)"), 1.0);
    assert!(similarity("print(x)", "print('x')") >= SIMILAR_AT_LEAST);
    assert!(similarity("x = 1\nprint(y)\n", "x = 1\nprint(x)\n") >= SIMILAR_AT_LEAST);
    // Re-indenting is not a change.
    assert_eq!(similarity("if a:\n  b()", "if a:\n        b()"), 1.0);
    assert!(similarity("print(x)", "for i in range(10):\n    total += i * i\n") < SIMILAR_AT_LEAST);
    assert!(similarity("", "print(1)") < SIMILAR_AT_LEAST);
}

#[test]
fn the_same_error_is_its_type_and_message_not_its_line() {
    let e = |t: &str, line: Option<&str>| crate::analyzer::Explanation {
        error_type: t.into(),
        error_line: line.map(str::to_string),
        ..Default::default()
    };
    let zero = e("ZeroDivisionError", Some("ZeroDivisionError: division by zero"));
    assert_eq!(error_key(&zero), error_key(&zero.clone()));
    assert!(error_key(&zero).is_some());
    // A compiler's line and column are not another error; another name is.
    let c = |l: &str| error_key(&e("error", Some(l)));
    assert_eq!(
        c("main.c:3:5: error: 'x' undeclared"),
        c("main.c:14:9: error: 'x' undeclared")
    );
    assert_ne!(
        c("main.c:3:5: error: 'x' undeclared"),
        c("main.c:3:5: error: 'y' undeclared")
    );
    assert_ne!(
        error_key(&e("NameError", Some("NameError: name 'totl' is not defined"))),
        error_key(&e("NameError", Some("NameError: name 'x' is not defined")))
    );
    assert_eq!(error_key(&e("ZeroDivisionError", None)), None);
    assert_eq!(error_key(&e("ZeroDivisionError", Some("  "))), None);
}

#[test]
fn variant_split_is_stable_and_splits() {
    // Fixed values: the same on every machine and in every process.
    let first: Vec<bool> = (0..8)
        .map(|u| variant_b(&format!("u:{u}"), "python-name-error"))
        .collect();
    let again: Vec<bool> = (0..8)
        .map(|u| variant_b(&format!("u:{u}"), "python-name-error"))
        .collect();
    assert_eq!(first, again);
    let b = (0..1000)
        .filter(|u| variant_b(&format!("u:{u}"), "python-name-error"))
        .count();
    assert!((400..600).contains(&b), "{b} of 1000 in B");
    // SHA-256("u:1\0python-name-error")'s first byte, computed independently.
    use sha2::{Digest, Sha256};
    let byte = Sha256::digest(b"u:1\0python-name-error")[0];
    assert_eq!(variant_b("u:1", "python-name-error"), byte & 1 == 1);
}

#[test]
fn medians_from_histograms() {
    let a: BTreeMap<i32, i64> = [(1, 3), (2, 1), (4, 1)].into();
    assert_eq!(median_attempts(&a), Some(1.0));
    let a: BTreeMap<i32, i64> = [(1, 1), (2, 2), (3, 1)].into();
    assert_eq!(median_attempts(&a), Some(2.0));
    assert_eq!(median_attempts(&BTreeMap::new()), None);
    // Two fixes in [10, 15): the median is the bucket's middle.
    let s: BTreeMap<i32, i64> = [(seconds_bucket(12.0), 2)].into();
    assert_eq!(seconds_bucket(12.0), 2);
    assert_eq!(median_seconds(&s), Some(12.5));
    assert_eq!(seconds_bucket(0.3), 0);
    assert_eq!(seconds_bucket(1e9), SECONDS_EDGES.len() as i32 - 1);
}

#[test]
fn students_are_users_or_tokens() {
    assert_eq!(student_key(Some(5), None, None).as_deref(), Some("u:5"));
    assert_eq!(student_key(None, Some(2), Some("ann")).as_deref(), Some("t:2:ann"));
    assert_eq!(student_key(None, Some(2), None).as_deref(), Some("t:2"));
    assert_eq!(student_key(None, None, Some("x")), None);
}

#[test]
fn days_are_checked() {
    assert_eq!(parse_day("2025-03-01").as_deref(), Some("2025-03-01"));
    assert_eq!(parse_day("2024-02-29T23:59:59Z").as_deref(), Some("2024-02-29"));
    assert_eq!(parse_day("2025-02-29"), None);
    assert_eq!(parse_day("2025-13-01"), None);
    assert_eq!(parse_day("yesterday"), None);
    assert_eq!(parse_day("2025-03-01junk"), None);
    assert_eq!(parse_day("20250301"), None);
}
