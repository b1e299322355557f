//! Time helpers: RFC 3339 timestamps (`2024-05-01T12:34:56.789012Z`, always UTC), printed by the
//! API's JSON and the admin panel alike (a module of its own so neither imports the other).
//!
//! A few lines of calendar arithmetic instead of a date crate: the API only ever prints
//! instants that PostgreSQL gave it, in one fixed format. Microseconds, because that is what
//! PostgreSQL stores, so a client sees exactly the stored instant.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn rfc3339(t: SystemTime) -> String {
    let (secs, micros) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(e) => {
            // Before 1970: count back, then borrow a second for the fraction.
            let d = e.duration();
            let (s, us) = (-(d.as_secs() as i64), d.subsec_micros());
            if us == 0 {
                (s, 0)
            } else {
                (s - 1, 1_000_000 - us)
            }
        }
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An instant for people, to the second, in UTC: `1 дек 2026, 15:33:19 UTC` (`ru`) or
/// `1 Dec 2026, 15:33:19 UTC` (`en`). No fractions: nobody reads microseconds.
pub fn human(t: SystemTime, locale: crate::registry::Locale) -> String {
    const RU: [&str; 12] = [
        "янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек",
    ];
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    };
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let months = match locale {
        crate::registry::Locale::Ru => RU,
        crate::registry::Locale::En => EN,
    };
    format!(
        "{d} {} {y}, {:02}:{:02}:{:02} UTC",
        months[(m as usize).saturating_sub(1) % 12],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
