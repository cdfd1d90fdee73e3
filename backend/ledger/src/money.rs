//! Money as Postgres stores it: `NUMERIC(78,0)` read and written in Postgres' binary format straight to and from
//! `U256`, so no amount ever travels as text or through a decimal type, and every malformed value (negative,
//! fractional, NaN, beyond 2^256) fails the same way: a decode error naming it.

use alloy::primitives::U256;
use sqlx::{
    Decode, Encode, Postgres, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef},
};

use crate::plan::Amount;

/// A non-negative integer amount in base units, as a `NUMERIC(78,0)` column holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub U256);

/// Base of the digits of Postgres' binary NUMERIC.
const NBASE: u64 = 10_000;
const SIGN_POSITIVE: u16 = 0x0000;

impl Money {
    /// The amount as the plan engine's `u128`; a stored amount beyond it fails like any undecodable column.
    pub fn to_amount(self) -> Result<Amount, sqlx::Error> {
        Amount::try_from(self.0).map_err(|_| sqlx::Error::Decode(format!("amount {} exceeds u128", self.0).into()))
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Amount> for Money {
    fn from(v: Amount) -> Self {
        Money(U256::from(v))
    }
}

impl From<U256> for Money {
    fn from(v: U256) -> Self {
        Money(v)
    }
}

impl Type<Postgres> for Money {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("numeric")
    }
}

impl PgHasArrayType for Money {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("_numeric")
    }
}

impl Encode<'_, Postgres> for Money {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // Base-10000 digits, least significant first; trailing zero digits are implied by the weight.
        let mut digits = Vec::new();
        let mut rest = self.0;
        let base = U256::from(NBASE);
        while !rest.is_zero() {
            let (q, r) = rest.div_rem(base);
            digits.push(r.to::<u64>() as i16);
            rest = q;
        }
        let weight = digits.len().saturating_sub(1) as i16;
        let zeros = digits.iter().take_while(|d| **d == 0).count();
        let significant = &digits[zeros..];
        buf.extend_from_slice(&(significant.len() as i16).to_be_bytes());
        buf.extend_from_slice(&weight.to_be_bytes());
        buf.extend_from_slice(&SIGN_POSITIVE.to_be_bytes());
        buf.extend_from_slice(&0u16.to_be_bytes()); // dscale
        for digit in significant.iter().rev() {
            buf.extend_from_slice(&digit.to_be_bytes());
        }
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for Money {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Text => parse_text(value.as_str()?),
            PgValueFormat::Binary => parse_binary(value.as_bytes()?),
        }
    }
}

fn parse_text(text: &str) -> Result<Money, BoxDynError> {
    let integer = text.strip_suffix(|c| c == '.').unwrap_or(text);
    let (integer, fraction) = integer.split_once('.').unwrap_or((integer, ""));
    if !fraction.bytes().all(|b| b == b'0') {
        return Err(format!("amount {text} is not an integer").into());
    }
    if integer.is_empty() || !integer.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("amount {text} is not a non-negative integer").into());
    }
    Ok(Money(integer.parse::<U256>().map_err(|e| format!("amount {text}: {e}"))?))
}

fn parse_binary(bytes: &[u8]) -> Result<Money, BoxDynError> {
    let field = |i: usize| -> Result<u16, BoxDynError> {
        let pair = bytes.get(2 * i..2 * i + 2).ok_or("truncated NUMERIC")?;
        Ok(u16::from_be_bytes([pair[0], pair[1]]))
    };
    let ndigits = field(0)? as i16;
    let weight = field(1)? as i16;
    let sign = field(2)?;
    if sign != SIGN_POSITIVE {
        return Err(format!("amount is negative or not a number (sign {sign:#06x})").into());
    }
    if ndigits < 0 || bytes.len() != 8 + 2 * ndigits as usize {
        return Err("malformed NUMERIC".into());
    }
    let base = U256::from(NBASE);
    let mut value = U256::ZERO;
    for i in 0..ndigits as usize {
        let digit = field(4 + i)?;
        if u64::from(digit) >= NBASE {
            return Err("malformed NUMERIC digit".into());
        }
        // Digit i stands for 10000^(weight - i): below the unit it must be zero.
        if (i as i32) > i32::from(weight) {
            if digit != 0 {
                return Err("amount is not an integer".into());
            }
            continue;
        }
        value = value.checked_mul(base).and_then(|v| v.checked_add(U256::from(digit))).ok_or("amount exceeds 2^256")?;
    }
    // Digits left out at the end (trailing zeros) up to the unit.
    for _ in (ndigits as i32)..=i32::from(weight) {
        value = value.checked_mul(base).ok_or("amount exceeds 2^256")?;
    }
    Ok(Money(value))
}
