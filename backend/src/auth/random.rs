//! Random tokens: nonces and refresh tokens.

/// `N` bytes from the operating system's CSPRNG, as lowercase hex.
pub(crate) fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    alloy::hex::encode(bytes)
}
