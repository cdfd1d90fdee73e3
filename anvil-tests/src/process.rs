//! Child processes of the tests: how one ended is named in every failure (issue 64: a child that printed
//! `0 failed` and still exited non-zero was reported without saying that a signal had ended it).

use std::process::ExitStatus;

/// A finished process's exit code and what it printed, for tests that compare the code. A process ended by a signal
/// has no code: it is -1 here, and `printed` ends with how it ended (`[ended with signal: 11 (SIGSEGV) (core
/// dumped)]`), which every failure message showing the text then says.
pub fn code_and_text(status: ExitStatus, mut printed: String) -> (i32, String) {
    match status.code() {
        Some(code) => (code, printed),
        None => {
            printed.push_str(&format!("\n[ended with {status}]"));
            (-1, printed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_signal_is_named_and_an_exit_code_kept() {
        let exited = Command::new("sh").args(["-c", "echo out; exit 3"]).output().unwrap();
        assert_eq!(code_and_text(exited.status, "out\n".into()), (3, "out\n".to_owned()));
        let killed = Command::new("sh").args(["-c", "kill -SEGV $$"]).output().unwrap();
        let (code, text) = code_and_text(killed.status, String::new());
        assert_eq!(code, -1);
        assert!(text.contains("signal: 11 (SIGSEGV)"), "{text}");
    }
}
