//! The long options of the fleet view: `--summary`, `--metrics`,
//! `--serve ADDR` and their settings. Parsed here, without I/O; the
//! parser hands over each such option and asks for the result at the end.
//!
//! `--serve` listens on loopback unless told otherwise in so many words:
//! an address that is not loopback needs `--serve-remote` as well, so a
//! typo or a copied command line cannot expose the exporter by accident.

use super::options::{Feature, FleetSettings};
use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::ffi::OsStringExt;

/// The long options this module owns.
pub(super) const NAMES: &[&str] = &[
    "summary",
    "metrics",
    "metrics-file",
    "metrics-paths",
    "serve",
    "serve-remote",
    "fd-top",
    "listeners-max",
    "cache-age",
];

/// What was given, before the checks that need all of it.
#[derive(Debug, Default)]
pub(super) struct FleetArgs {
    modes: Vec<&'static str>,
    serve: Option<SocketAddr>,
    remote: bool,
    file: Option<OsString>,
    top: Option<usize>,
    listeners: Option<usize>,
    deleted_paths: Option<usize>,
    cache_age: Option<u64>,
    /// Settings given, by name, to check they go with a mode that uses them.
    settings_given: Vec<&'static str>,
}

impl FleetArgs {
    /// Takes one option (`name` from `NAMES`); Err(message) on a bad value.
    pub(super) fn take(&mut self, name: &'static str, value: Option<&[u8]>) -> Result<(), String> {
        let text = value.map(|v| String::from_utf8_lossy(v).into_owned());
        let number = |what: &str| -> Result<u64, String> {
            let t = text.as_deref().unwrap_or("");
            t.parse::<u64>()
                .map_err(|_| format!("--{name} needs {what}, not \"{t}\""))
        };
        match name {
            "summary" | "metrics" => self.modes.push(name),
            "serve" => {
                self.modes.push(name);
                self.serve = Some(parse_serve_address(text.as_deref().unwrap_or(""))?);
            }
            "serve-remote" => self.remote = true,
            "metrics-file" => match value {
                Some(path) if !path.is_empty() => {
                    self.file = Some(OsString::from_vec(path.to_vec()));
                }
                _ => return Err("--metrics-file needs a path".to_string()),
            },
            "fd-top" => self.top = Some(number("a number of processes")? as usize),
            "listeners-max" => self.listeners = Some(number("a number of sockets")? as usize),
            "metrics-paths" => self.deleted_paths = Some(number("a number of files")? as usize),
            "cache-age" => self.cache_age = Some(number("a number of seconds")?),
            _ => {}
        }
        if !matches!(name, "summary" | "metrics" | "serve") {
            self.settings_given.push(name);
        }
        Ok(())
    }

    /// Whether a fleet mode was asked for.
    pub(super) fn any_mode(&self) -> bool {
        !self.modes.is_empty()
    }

    /// The mode, or Err(message) when the options do not go together.
    pub(super) fn finish(mut self, json: bool) -> Result<Option<Feature>, String> {
        self.modes.dedup();
        if self.modes.len() > 1 {
            return Err("--summary, --metrics and --serve are mutually exclusive".to_string());
        }
        let mode = self.modes.first().copied();
        for setting in &self.settings_given {
            let fits = match *setting {
                "serve-remote" | "cache-age" => mode == Some("serve"),
                "metrics-file" => mode == Some("metrics"),
                "metrics-paths" | "listeners-max" => matches!(mode, Some("metrics" | "serve")),
                _ => mode.is_some(),
            };
            if !fits {
                return Err(format!("--{setting} does not go with {}", describe(mode)));
            }
        }
        if json && matches!(mode, Some("metrics" | "serve")) {
            return Err("-J/-j go with --summary, not with --metrics or --serve".to_string());
        }
        let settings = FleetSettings {
            top: self.top,
            listeners: self.listeners.unwrap_or(100),
            deleted_paths: self.deleted_paths.unwrap_or(0),
            cache_age_secs: self.cache_age.unwrap_or(5),
        };
        Ok(match mode {
            Some("summary") => Some(Feature::Summary(settings)),
            Some("metrics") => Some(Feature::Metrics {
                settings,
                file: self.file,
            }),
            Some(_) => {
                let addr = self
                    .serve
                    .unwrap_or(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0));
                if !addr.ip().is_loopback() && !self.remote {
                    return Err(format!(
                        "--serve {addr}: not a loopback address; add --serve-remote to listen there"
                    ));
                }
                Some(Feature::Serve { settings, addr })
            }
            None => None,
        })
    }
}

fn describe(mode: Option<&str>) -> String {
    match mode {
        Some(m) => format!("--{m}"),
        None => "no --summary, --metrics or --serve".to_string(),
    }
}

/// `PORT` (on 127.0.0.1), `localhost:PORT`, `IPv4:PORT` or `[IPv6]:PORT`.
/// Host names other than localhost are refused: what they resolve to
/// would decide whether the exporter is exposed.
pub(super) fn parse_serve_address(text: &str) -> Result<SocketAddr, String> {
    let bad = || format!("--serve needs PORT, IP:PORT or [IPv6]:PORT, not \"{text}\"");
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        let port = port.parse::<u16>().map_err(|_| bad())?;
        return Ok(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
    }
    let addr: SocketAddr = text.parse().map_err(|_| bad())?;
    if let IpAddr::V6(v6) = addr.ip() {
        if let Some(v4) = v6.to_ipv4_mapped() {
            return Ok(SocketAddr::new(v4.into(), addr.port()));
        }
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        options: &[(&'static str, Option<&str>)],
        json: bool,
    ) -> Result<Option<Feature>, String> {
        let mut args = FleetArgs::default();
        for (name, value) in options {
            args.take(name, value.map(str::as_bytes))?;
        }
        args.finish(json)
    }

    #[test]
    fn serve_addresses() {
        assert_eq!(
            parse_serve_address("9100"),
            Ok("127.0.0.1:9100".parse().unwrap())
        );
        assert_eq!(
            parse_serve_address("localhost:1"),
            Ok("127.0.0.1:1".parse().unwrap())
        );
        assert_eq!(
            parse_serve_address("[::1]:80"),
            Ok("[::1]:80".parse().unwrap())
        );
        for bad in [
            "",
            "x",
            "host:80",
            "1.2.3.4",
            "1.2.3.4:99999",
            "[::1]",
            "-1",
        ] {
            assert!(parse_serve_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn non_loopback_needs_serve_remote() {
        let err = parse(&[("serve", Some("0.0.0.0:9100"))], false).unwrap_err();
        assert!(err.contains("--serve-remote"), "{err}");
        let ok = parse(
            &[("serve", Some("10.0.0.1:9100")), ("serve-remote", None)],
            false,
        );
        assert!(matches!(ok, Ok(Some(Feature::Serve { .. }))));
        let ok = parse(&[("serve", Some("[::1]:9100"))], false);
        assert!(matches!(ok, Ok(Some(Feature::Serve { .. }))));
    }

    #[test]
    fn settings_go_with_their_mode() {
        assert!(parse(&[("fd-top", Some("3"))], false).is_err());
        assert!(parse(&[("summary", None), ("cache-age", Some("1"))], false).is_err());
        assert!(parse(&[("metrics", None), ("summary", None)], false).is_err());
        assert!(parse(&[("metrics", None)], true).is_err());
        assert!(parse(&[("summary", None), ("fd-top", Some("x"))], false).is_err());
        let Ok(Some(Feature::Summary(s))) =
            parse(&[("summary", None), ("fd-top", Some("3"))], true)
        else {
            panic!("--summary --fd-top 3 -J");
        };
        assert_eq!(s.top, Some(3));
        let Ok(Some(Feature::Metrics { file, .. })) =
            parse(&[("metrics", None), ("metrics-file", Some("/x"))], false)
        else {
            panic!("--metrics --metrics-file");
        };
        assert_eq!(file, Some(OsString::from("/x")));
    }
}

#[cfg(test)]
mod parse_tests {
    use crate::cli::options::Feature;

    fn parse(args: &[&str]) -> Result<Option<Feature>, String> {
        crate::cli::parse(args.iter().map(std::ffi::OsString::from))
            .map(|o| o.feature)
            .map_err(|e| e.message)
    }

    #[test]
    fn whole_command_lines() {
        assert!(matches!(
            parse(&["--summary", "-u", "root", "-J"]),
            Ok(Some(Feature::Summary(_)))
        ));
        assert!(matches!(
            parse(&["--serve=127.0.0.1:9100", "--cache-age", "2"]),
            Ok(Some(Feature::Serve { .. }))
        ));
        for bad in [
            &["--summary", "-t"][..],
            &["--metrics", "-F", "p"],
            &["--summary", "-r", "1"],
            &["--summary", "--deleted"],
            &["--serve"],
            &["--metrics-file", "/x"],
        ] {
            let err = parse(bad).expect_err(&format!("{bad:?}"));
            assert!(err.starts_with("lsof: ") || err.contains("rlsof"), "{err}");
        }
    }
}
