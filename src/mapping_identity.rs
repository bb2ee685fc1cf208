//! A mapping file's identity: the key its decisions and verdicts are kept under, the same from
//! whichever folder a command runs. It is the file's `name` when it has one, else its path from
//! the folder of `affsync.toml` (or, with no settings file, of the SQLite mirror). With a
//! Postgres mirror and no settings file there is no folder every machine shares, so the file
//! must be named.
//!
//! Older versions kept the path from the folder a command ran in; [`migrate_keys`] moves those
//! keys once, and lists (never drops) the ones it cannot resolve.

use std::path::{Path, PathBuf};

use affsync_core::mapping::{line_of, Mapping, MappingError};
use chrono::Utc;

use crate::store::mapping_keys::{KeyMove, MAPPING_IDENTITY_PASS};
use crate::store::{Store, StoreError};

/// Where mapping paths are taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingRoot {
    /// Paths from this folder (a full path).
    Folder(PathBuf),
    /// No folder: every mapping file needs a `name`.
    NameRequired,
}

/// A path as a key: from `root`, with `/` between its parts (`mappings/companies.toml`,
/// `../shared/people.toml`); both are made full paths first, so the key is the same from
/// every working folder.
pub fn path_key(path: &Path, root: &Path) -> String {
    let full = |p: &Path| {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        std::fs::canonicalize(&p).unwrap_or(p)
    };
    let (abs, root) = (full(path), full(root));
    // `pathdiff` gives the relative path with `..` where `abs` is outside `root`.
    let rel = pathdiff::diff_paths(&abs, &root).unwrap_or(abs);
    rel.to_string_lossy().replace('\\', "/")
}

/// The identity of a parsed mapping file.
pub fn identity(m: &Mapping, root: &MappingRoot) -> Result<String, MappingError> {
    if let Some(n) = &m.name {
        return Ok(n.get_ref().clone());
    }
    match root {
        MappingRoot::Folder(dir) => Ok(path_key(&m.path, dir)),
        MappingRoot::NameRequired => Err(MappingError::Invalid {
            file: m.file(),
            line: line_of(&m.text, 0),
            message: "the file has no `name`, and with a Postgres mirror and no `affsync.toml` its path is not the same for everyone".into(),
            hint: "add `name = \"companies\"` (a short word that stays) at the top of the file, or keep the settings in an `affsync.toml`".into(),
        }),
    }
}

/// Reads and parses a mapping file, and gives it its identity.
pub fn load(path: &Path, root: &MappingRoot) -> Result<Mapping, MappingError> {
    let mut m = crate::io::load_mapping(path)?;
    m.identity = Some(identity(&m, root)?);
    Ok(m)
}

/// The identity of the mapping file at `path` (its `name` read when the file parses), `None`
/// when it has none.
pub fn identity_of_path(path: &Path, root: &MappingRoot) -> Option<String> {
    match crate::io::load_mapping(path) {
        Ok(m) => identity(&m, root).ok(),
        Err(_) => match root {
            MappingRoot::Folder(d) => Some(path_key(path, d)),
            MappingRoot::NameRequired => None,
        },
    }
}

/// Moves, once per store, the keys of older versions to identities: a key that names a mapping
/// file from `root` or from `cwd` (or by its full path) becomes that file's identity; the
/// others are kept as they are and returned with `new_key: None`, so they can be listed.
/// Later calls do nothing and return nothing.
pub async fn migrate_keys(
    store: &Store,
    root: &MappingRoot,
    cwd: &Path,
) -> Result<Vec<KeyMove>, StoreError> {
    if store.pass_done(MAPPING_IDENTITY_PASS).await? {
        return Ok(Vec::new());
    }
    let keys = store.mapping_keys().await?;
    let mut moves = Vec::new();
    for key in keys {
        let p = Path::new(&key);
        let mut found = Vec::new();
        if p.is_absolute() {
            found.push(p.to_path_buf());
        } else {
            if let MappingRoot::Folder(d) = root {
                found.push(d.join(p));
            }
            found.push(cwd.join(p));
        }
        let new = found
            .into_iter()
            .find(|f| f.is_file())
            .and_then(|f| identity_of_path(&f, root));
        match new {
            Some(n) if n == key => {}
            n => moves.push((key, n)),
        }
    }
    let done = store.move_mapping_keys(&moves, Utc::now()).await?;
    for m in &done {
        match &m.new_key {
            Some(n) => {
                tracing::info!(from = %m.old_key, to = %n, kept = m.kept, "mapping decisions now kept under the mapping's identity")
            }
            None => tracing::warn!(
                key = %m.old_key,
                rows = m.kept,
                "decisions kept under `{}`: no mapping file found for it from the settings' folder or this one; they stay as they are (run once from the folder they were made in, or see `affsync config show`)",
                m.old_key
            ),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_key_is_the_same_from_every_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("work/mappings")).unwrap();
        let f = root.join("work/mappings/c.toml");
        std::fs::write(&f, "").unwrap();
        assert_eq!(path_key(&f, &root.join("work")), "mappings/c.toml");
        assert_eq!(path_key(&f, &root), "work/mappings/c.toml");
        assert_eq!(
            path_key(&root.join("other.toml"), &root.join("work")),
            "../other.toml"
        );
    }

    #[test]
    fn a_name_wins_and_a_postgres_mirror_without_settings_needs_one() {
        let text =
            "version = 1\nentity = \"organization\"\n[source]\npath = \"c.csv\"\nid = \"id\"\n";
        let m = Mapping::parse(Path::new("/x/m.toml"), text.into()).unwrap();
        assert_eq!(
            identity(&m, &MappingRoot::Folder("/x".into())).unwrap(),
            "m.toml"
        );
        let e = identity(&m, &MappingRoot::NameRequired).unwrap_err();
        assert!(e.to_string().contains("no `name`"), "{e}");
        let named =
            Mapping::parse(Path::new("/x/m.toml"), format!("name = \"co\"\n{text}")).unwrap();
        assert_eq!(identity(&named, &MappingRoot::NameRequired).unwrap(), "co");
        let bad = Mapping::parse(Path::new("m.toml"), format!("name = \" \"\n{text}")).unwrap_err();
        assert!(bad.to_string().contains("line 1"), "{bad}");
    }
}
