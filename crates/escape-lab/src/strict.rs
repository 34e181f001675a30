//! Reading the files a user can hand us (baselines, summaries): bounded in
//! size, and JSON with every object's keys unique.
//!
//! serde's derived readers reject a field given twice, but a reader that
//! first looks at a `serde_json::Value` (to dispatch on `schema_version`)
//! would keep only the last of two equal keys: `"allocs": 0, "allocs":
//! 999999` would read as 999999 without a word. [`json`] refuses it, naming
//! the key, the line and the column.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::Error;

/// The largest baseline or summary read: 16 MiB. The committed baseline of
/// 31 scenarios is 20 KB; a file this large is not one we wrote.
pub(crate) const JSON_LIMIT: u64 = 16 << 20;

/// The largest dhat profile read: 1 GiB (the article's heaviest scenario
/// writes about 1 MB).
pub(crate) const PROFILE_LIMIT: u64 = 1 << 30;

/// Reads at most `limit` bytes of `path`.
///
/// # Errors
///
/// [`Error::Read`] when it cannot be read, [`Error::Malformed`] when it
/// holds more than `limit` bytes (it is not read further: `/dev/zero` is
/// refused after `limit` bytes).
///
/// # Allocation
///
/// The bytes read.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::read(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::malformed(
            path,
            format!(
                "larger than {} MiB: not a file escape-lab wrote",
                limit >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// Parses `bytes` (read from `path`) as JSON whose objects have no key
/// twice.
///
/// # Errors
///
/// [`Error::Malformed`] naming `path`: not JSON, or a key given twice in
/// one object, with the line and column.
///
/// # Allocation
///
/// The parsed value.
pub(crate) fn json(path: &Path, bytes: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice::<Strict>(bytes)
        .map(|s| s.0)
        .map_err(|e| {
            Error::malformed(
                path,
                format!(
                    "not valid JSON ({e}); a truncated or hand-edited file? Restore it from git or write it again"
                ),
            )
        })
}

/// A JSON value read with unique keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!(
                    "the key {key:?} is given twice in one object"
                )));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_line() {
        let p = Path::new("b.json");
        let e = json(p, b"{\"a\": {\"x\": 0,\n \"x\": 9}}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("b.json: ") && e.contains("\"x\" is given twice") && e.contains("line 2"),
            "{e}"
        );
        // The same key in two objects is fine (positive control).
        let v = json(
            p,
            b"[{\"x\": 1}, {\"x\": 2.5, \"y\": [null, true, \"s\", -3]}]",
        )
        .unwrap();
        assert_eq!(v[1]["y"][3], -3);
        assert_eq!(v[1]["x"], 2.5);
    }

    #[test]
    fn reads_stop_at_the_limit() {
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/dev/zero: larger than 1 MiB: not a file escape-lab wrote"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, [7u8; 1 << 20]).unwrap();
        assert_eq!(read_bounded(&p, 1 << 20).unwrap().len(), 1 << 20);
    }
}
