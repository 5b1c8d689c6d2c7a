//! The files of a plan folder on disk: which entries are read, and how (only regular UTF-8
//! files inside the folder, of a bounded size), and how files are written and removed.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Located, file_finding};
use crate::domain::Code;

/// Files larger than this are refused before they are parsed.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The entries of `folder` whose name ends in `.toml`, sorted; what each one is gets checked
/// when it is read, so that a folder or pipe of that name is reported, not skipped.
pub(super) fn toml_entries(folder: &Path) -> io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(folder)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// What a path that is not a regular file is, for the message that refuses it.
fn not_a_file(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO), not a file: not read";
        }
        if file_type.is_socket() {
            return "a socket, not a file: not read";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device, not a file: not read";
        }
    }
    if file_type.is_dir() {
        "a folder, not a file: not read"
    } else {
        "not a regular file: not read"
    }
}

/// Where the files of one folder of a plan (the plan folder itself, `systems/`, `scenarios/`)
/// may come from: the plan folder, resolved, and whether the folder being read resolves inside
/// it. Resolved once per folder, so that an ordinary folder costs no look-up per file.
pub(super) struct Bounds {
    root: Option<PathBuf>,
    folder_inside: bool,
}

impl Bounds {
    /// For the plan folder's own files (`plan.toml`).
    pub(super) fn plan_folder(root: &Path) -> Bounds {
        Bounds {
            root: fs::canonicalize(root).ok(),
            folder_inside: true,
        }
    }

    pub(super) fn of(root: &Path, folder: &Path) -> Bounds {
        let root = fs::canonicalize(root).ok();
        let folder_inside = root
            .as_ref()
            .is_some_and(|r| fs::canonicalize(folder).is_ok_and(|f| f.starts_with(r)));
        Bounds {
            root,
            folder_inside,
        }
    }
}

/// Reads a file of a plan folder whole, refusing what is too large or not UTF-8, what
/// lies outside the folder once symbolic links are followed (the file's or a folder's on the
/// way, such as `systems/` itself), and anything that is not a regular file (a folder, a named
/// pipe that would block, a device that never ends).
pub(super) fn read_text(path: &Path, bounds: &Bounds) -> Result<String, Located> {
    let fail = |line, message| Err(file_finding(Code::InvalidFile, path, line, message));
    let link = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return fail(None, "file not found".into());
        }
        Err(e) => return fail(None, format!("cannot be read: {e}")),
    };
    if link.file_type().is_symlink() || !bounds.folder_inside {
        let target = match fs::canonicalize(path) {
            Ok(target) => target,
            Err(_) if link.file_type().is_symlink() => {
                return fail(None, "a symbolic link to nothing: not read".into());
            }
            Err(e) => return fail(None, format!("cannot be read: {e}")),
        };
        if !bounds
            .root
            .as_ref()
            .is_some_and(|root| target.starts_with(root))
        {
            return fail(
                None,
                format!(
                    "leads to {}, outside the plan folder: not read",
                    target.display()
                ),
            );
        }
    }
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return fail(None, format!("cannot be read: {e}")),
    };
    if !meta.is_file() {
        return fail(None, not_a_file(meta.file_type()).into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return fail(
            None,
            format!(
                "file is {:.1} MB; plan files may be at most {} MB",
                meta.len() as f64 / 1_048_576.0,
                MAX_FILE_BYTES / 1_048_576
            ),
        );
    }
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => return fail(None, format!("cannot be read: {e}")),
    };
    String::from_utf8(bytes).or_else(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = super::locate::line_of(&String::from_utf8_lossy(&e.as_bytes()[..at]), at);
        fail(
            Some(line),
            format!("not valid UTF-8 (byte {at}); save the file as UTF-8"),
        )
    })
}

/// Removes the `.toml` files of `folder` whose names are not in `keep`.
pub(super) fn remove_others(folder: &Path, keep: &HashSet<String>) -> io::Result<()> {
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if path.extension().is_some_and(|x| x == "toml") && !name.is_some_and(|n| keep.contains(&n))
        {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Writes through a temporary file and a rename, so a file is never left half-written.
pub(super) fn write_file(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
}
