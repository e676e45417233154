//! `--log` and `--log-format`: where runc writes its errors. containerd's shim passes
//! `--log <bundle>/log.json --log-format json` and shows its user the last error line there.

use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub struct Logger {
    file: Option<PathBuf>,
    format: Format,
}

impl Logger {
    pub fn new(file: Option<PathBuf>, format: Format) -> Logger {
        Logger { file, format }
    }

    /// Logs `message` as an error: on stderr always, and in the log file in its format.
    pub fn error(&self, message: &str) {
        eprintln!("{}: {message}", super::RUNC_NAME);
        let Some(path) = &self.file else {
            return;
        };
        let time = humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string();
        let line = match self.format {
            Format::Json => {
                serde_json::json!({"level": "error", "msg": message, "time": time}).to_string()
            }
            Format::Text => format!("time=\"{time}\" level=error msg={message:?}"),
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}
