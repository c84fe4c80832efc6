//! Command-line inputs: files, folders (walked recursively for captures) and `-` for standard
//! input.

use super::{CaptureError, CaptureReader, ReaderOptions};
use std::fs;
use std::path::{Path, PathBuf};

/// File name endings taken when walking a folder (compared case-insensitively).
const CAPTURE_SUFFIXES: &[&str] = &[
    ".pcap",
    ".pcapng",
    ".cap",
    ".pcap.gz",
    ".pcapng.gz",
    ".cap.gz",
];

/// Folder nesting followed at most (symbolic links to folders are not followed at all).
const MAX_DEPTH: usize = 64;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InputSpec {
    /// Standard input (`-`).
    Stdin,
    File(PathBuf),
}

impl InputSpec {
    /// The name used in reports: the path as given, or `-`.
    pub fn display_name(&self) -> String {
        match self {
            InputSpec::Stdin => "-".to_string(),
            InputSpec::File(path) => path.display().to_string(),
        }
    }

    /// Opens the input for reading.
    pub fn open(&self, options: ReaderOptions) -> Result<CaptureReader, CaptureError> {
        match self {
            InputSpec::Stdin => {
                CaptureReader::from_read_with("-", Box::new(std::io::stdin()), options)
            }
            InputSpec::File(path) => CaptureReader::open_with(path, options),
        }
    }
}

/// True when a file name looks like a capture (`.pcap`, `.pcapng`, `.cap`, and their `.gz`).
pub fn is_capture_name(path: &Path) -> bool {
    path.file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|name| CAPTURE_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)))
}

/// Expands command-line paths: a file is taken as is (whatever its name), a folder is walked
/// recursively for capture files in sorted order, `-` is standard input. A path that does not
/// exist is an error.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<InputSpec>, CaptureError> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(InputSpec::Stdin);
            continue;
        }
        let metadata = fs::metadata(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                CaptureError::NotFound { path: path.clone() }
            } else {
                CaptureError::Open {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        if metadata.is_dir() {
            let mut found = Vec::new();
            walk(path, 0, &mut found)?;
            found.sort();
            inputs.extend(found.into_iter().map(InputSpec::File));
        } else {
            inputs.push(InputSpec::File(path.clone()));
        }
    }
    Ok(inputs)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), CaptureError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let walk_error = |source| CaptureError::Walk {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(walk_error)? {
        entries.push(entry.map_err(walk_error)?.path());
    }
    entries.sort();
    for path in entries {
        let Ok(link_metadata) = fs::symlink_metadata(&path) else {
            continue;
        };
        if link_metadata.is_dir() {
            walk(&path, depth.saturating_add(1), found)?;
        } else if is_capture_name(&path) && fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_sorted_and_filters_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/deeper")).unwrap();
        fs::create_dir_all(root.join("a")).unwrap();
        for name in [
            "b/deeper/z.PCAPNG",
            "b/one.cap.gz",
            "a/two.pcap",
            "a/notes.txt",
            "top.pcapng.gz",
            "a/x.pcap.bak",
        ] {
            fs::write(root.join(name), b"").unwrap();
        }
        let inputs = expand_inputs(&[root.to_path_buf(), PathBuf::from("-")]).unwrap();
        let names: Vec<String> = inputs
            .iter()
            .map(|input| match input {
                InputSpec::File(path) => path.strip_prefix(root).unwrap().display().to_string(),
                InputSpec::Stdin => "-".to_string(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "a/two.pcap",
                "b/deeper/z.PCAPNG",
                "b/one.cap.gz",
                "top.pcapng.gz",
                "-"
            ]
        );
        // An explicit file is taken whatever its name.
        let explicit = expand_inputs(&[root.join("a/notes.txt")]).unwrap();
        assert_eq!(explicit, [InputSpec::File(root.join("a/notes.txt"))]);
        assert!(matches!(
            expand_inputs(&[root.join("missing.pcap")]),
            Err(CaptureError::NotFound { .. })
        ));
    }
}
