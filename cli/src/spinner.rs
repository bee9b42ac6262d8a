//! A spinner naming what runs, for steps that take seconds to minutes.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A ticking spinner with `message` and the elapsed time; hidden when `quiet`.
pub fn spinner(message: String, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner().with_message(message);
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("a valid template"),
    );
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner
}
