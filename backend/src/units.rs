//! Amounts as people read them: base units shown in an asset's unit, exactly.

/// `base` (an integer as a decimal string, maybe negative) divided by 10^decimals, exactly,
/// without trailing zeros: `human_units("20500000000000000000", 18) == "20.5"`.
pub fn human_units(base: &str, decimals: i16) -> String {
    let (sign, digits) = match base.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", base),
    };
    let decimals = usize::try_from(decimals).unwrap_or(0);
    let digits = digits.trim_start_matches('0');
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (int, frac) = padded.split_at(padded.len() - decimals);
    let frac = frac.trim_end_matches('0');
    let sign = if digits.is_empty() { "" } else { sign };
    if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") }
}

/// `base` base units of an asset with `decimals` and `symbol` as people read them: `20.5 BNB`.
pub fn human(base: impl ToString, decimals: i16, symbol: &str) -> String {
    format!("{} {symbol}", human_units(&base.to_string(), decimals))
}
