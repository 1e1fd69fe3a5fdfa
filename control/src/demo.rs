//! The embedded demo: what `bondd run` does with no config file.

use crate::config::Config;
use crate::pcap::{self, UdpFlows};
use std::path::{Path, PathBuf};

/// The demo config, with `@DEMO_PCAP@` standing for the generated traffic file.
pub const DEMO_TOML: &str = include_str!("../../configs/demo.toml");

/// A generated demo: its config and the directory that holds its pcap (removed on drop).
pub struct Demo {
    pub config: Config,
    dir: PathBuf,
}

impl Demo {
    /// Writes the traffic file (1024 UDP flows of 64-byte frames) and builds the config.
    pub fn prepare() -> std::io::Result<Demo> {
        // (The status files go to a run directory inside the demo's temp dir.)
        let dir = std::env::temp_dir().join(format!("bondd-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let pcap_path = dir.join("demo.pcap");
        let frames = UdpFlows::default().frames();
        pcap::write_file(&pcap_path, frames.iter().map(|f| f.as_slice()))?;
        let text = DEMO_TOML
            .replace("@DEMO_PCAP@", &pcap_path.display().to_string())
            .replace("@DEMO_RUN_DIR@", &dir.join("run").display().to_string());
        let config = Config::parse(&text, Path::new("<embedded demo>"))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Demo { config, dir })
    }
}

impl Demo {
    /// The status files' directory.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
